/*
 * main() of `lockbox`, the command-line client of the Lockbox HTTP API.
 *
 * It only wires the pieces of src/cli/ together: parse argv (args.c), show
 * help or the version when asked, otherwise run the command (run.c) and
 * exit with the status that says what happened (see `lockbox --help`).
 * libcurl's global state is set up and torn down here, once.
 */
#include <stdio.h>

#include <curl/curl.h>

#include "cli/cli.h"

int
main(int argc, char **argv)
{
	struct cli_inv inv = { 0 };
	int rc;

	if (argc < 2) {
		cli_help_top(stderr);
		return CLI_EXIT_USAGE;
	}
	rc = cli_args_parse(argc, argv, &inv);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (inv.version) {
		printf("lockbox %s\n", LOCKBOX_VERSION);
		goto out;
	}
	if (inv.help) {
		if (inv.cmd != NULL)
			cli_help_cmd(stdout, inv.cmd);
		else if (inv.group != NULL)
			cli_help_group(stdout, inv.group);
		else
			cli_help_top(stdout);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "lockbox: cannot initialise libcurl\n");
		rc = CLI_EXIT_OTHER;
		goto out;
	}
	rc = cli_run(&inv);
	curl_global_cleanup();
out:
	cli_inv_free(&inv);
	if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_OTHER;
	return rc;
}
