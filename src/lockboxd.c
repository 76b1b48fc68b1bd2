/*
 * lockboxd: the Lockbox daemon.
 *
 * Reads its configuration, opens storage (running migrations), creates the
 * first principal from LOCKBOX_BOOTSTRAP_TOKEN on a new database, starts
 * the sweeper and the HTTP server, then waits for SIGTERM or SIGINT.  On
 * shutdown it stops accepting, lets calls in flight finish and commit,
 * stops the sweeper and closes storage, so no committed work is lost and
 * no half-done call is left behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "app/app.h"
#include "http/http.h"
#include "sys/sys.h"

static struct lb_app app;

int
main(int argc, char **argv)
{
	struct lb_config cfg;
	struct MHD_Daemon *httpd = NULL;
	sigset_t sigs;
	int rc, sig = 0, status = 1;

	rc = config_load(argc, argv, &cfg);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (log_set_level(cfg.log_level) != 0) {
		fprintf(stderr, "lockboxd: unknown log level `%s`\n", cfg.log_level);
		return 2;
	}
	if (sodium_init() < 0) {
		log_error("start", "msg=\"libsodium failed to initialise\"");
		return 1;
	}
	if (cfg.test_clock[0] != '\0' && clock_use_offset_file(cfg.test_clock) != 0) {
		log_error("start", "msg=\"--test-clock needs LOCKBOX_ALLOW_TEST_CLOCK=1\"");
		return 2;
	}
	if (cfg.test_clock[0] != '\0')
		log_warn("start", "msg=\"TEST CLOCK IN USE: time is shifted by the file's offset\" file=%s",
		    cfg.test_clock);

	/* Block the stop signals in every thread; main waits for them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		log_error("start", "msg=\"cannot create data dir\" dir=%s error=\"%s\"", cfg.data_dir,
		    strerror(errno));
		return 1;
	}
	app.cfg = &cfg;
	if ((rc = store_open(cfg.database, &app.store)) != 0) {
		log_error("start", "msg=\"cannot open database\" error=%s", lb_err_code(rc));
		return 1;
	}
	const char *boot = getenv("LOCKBOX_BOOTSTRAP_TOKEN");
	rc = app_bootstrap(&app, boot);
	if (boot != NULL)
		unsetenv("LOCKBOX_BOOTSTRAP_TOKEN");
	if (rc != 0) {
		log_error("start", "msg=\"bootstrap failed\" error=%s", lb_err_code(rc));
		goto out;
	}
	if (app_sweeper_start(&app) != 0) {
		log_error("start", "msg=\"cannot start the sweeper\"");
		goto out;
	}
	if ((httpd = http_start(&app, cfg.listen, cfg.threads)) == NULL)
		goto out;
	log_info("start", "listen=%s database=%s schema=%d threads=%ld", cfg.listen,
	    strncmp(cfg.database, "postgres", 8) == 0 ? "postgresql" : cfg.database,
	    store_schema_version(app.store), cfg.threads);
	if (sigwait(&sigs, &sig) != 0)
		sig = 0;
	log_info("stop", "signal=%d msg=\"finishing calls in flight\"", sig);
	status = 0;
out:
	http_stop(httpd);
	app_sweeper_stop(&app);
	store_close(app.store);
	if (status == 0)
		log_info("stop", "msg=\"stopped cleanly\"");
	return status;
}
