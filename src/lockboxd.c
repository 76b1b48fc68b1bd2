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
#include "notify/notify.h"
#include "sys/sys.h"

static struct lb_app app;
static struct lb_notify *notifier;

/* The access check's URI map: the file given, or the default. */
static int
load_uri_map(const struct lb_config *cfg, struct lb_uri_map *map)
{
	char err[256], *text;
	FILE *fp;
	size_t n;
	int rc;

	if (cfg->authz_map[0] == '\0') {
		lb_uri_map_default(map);
		return 0;
	}
	if ((fp = fopen(cfg->authz_map, "r")) == NULL) {
		log_error("start", "msg=\"cannot read the URI map\" file=%s error=\"%s\"",
		    cfg->authz_map, strerror(errno));
		return LB_ERR_INVALID_VALUE;
	}
	if ((text = malloc(65536 + 1)) == NULL) {
		fclose(fp);
		return LB_ERR_NOMEM;
	}
	n = fread(text, 1, 65536 + 1, fp);
	fclose(fp);
	if (n > 65536) {
		free(text);
		log_error("start", "msg=\"URI map larger than 64 KiB\" file=%s", cfg->authz_map);
		return LB_ERR_TOO_LARGE;
	}
	text[n] = '\0';
	rc = lb_uri_map_parse(text, map, err, sizeof(err));
	free(text);
	if (rc != 0)
		log_error("start", "msg=\"bad URI map\" file=%s error=\"%s\"", cfg->authz_map, err);
	return rc;
}

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
	if ((rc = load_uri_map(&cfg, &app.uri_map)) != 0)
		goto out;
	if ((rc = keys_open(cfg.data_dir, clock_now_ms(), &app.keys)) != 0) {
		log_error("start", "msg=\"cannot open the signing keys\" dir=%s/keys error=%s",
		    cfg.data_dir, lb_err_code(rc));
		goto out;
	}
	if ((rc = live_new(&app.live)) != 0 ||
	    (rc = cache_new(4096, sizeof(struct lb_grant_seen), &app.grant_cache)) != 0 ||
	    (rc = cache_new(1024, sizeof(struct lb_actor), &app.token_cache)) != 0 ||
	    (rc = app_live_load(&app, clock_now_ms())) != 0 ||
	    (rc = auditq_start(app.store, &app.auditq)) != 0) {
		log_error("start", "msg=\"cannot start the access check\" error=%s", lb_err_code(rc));
		goto out;
	}
	if (app_sweeper_start(&app) != 0) {
		log_error("start", "msg=\"cannot start the sweeper\"");
		goto out;
	}
	if ((rc = notify_start(app.store, &cfg, &notifier)) != 0) {
		log_error("start", "msg=\"cannot start the notifier\" error=%s", lb_err_code(rc));
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
	http_stop(&app, httpd);
	app_sweeper_stop(&app);
	notify_stop(notifier);
	auditq_stop(app.auditq);
	cache_free(app.token_cache);
	cache_free(app.grant_cache);
	live_free(app.live);
	keys_close(app.keys);
	store_close(app.store);
	if (status == 0)
		log_info("stop", "msg=\"stopped cleanly\"");
	return status;
}
