/*
 * bench/noop_authz: an HTTP server that answers 204 No Content to every
 * request and does nothing else.  It runs on libmicrohttpd with the same
 * daemon flags as lockboxd (internal polling thread, epoll, a pool of
 * worker threads), so nginx -> noop_authz is the cost of auth_request
 * itself and nginx -> lockboxd minus that is Lockbox's own work.
 *
 *   cc -O2 bench/noop_authz.c $(pkg-config --cflags --libs libmicrohttpd) \
 *       -o build/bench/noop_authz
 *   build/bench/noop_authz PORT [THREADS [body]]   (listens on 127.0.0.1 only)
 *
 * With "body" it answers 200 and a JSON body the size of Lockbox's allow
 * instead: nginx cannot keep an auth_request upstream connection alive
 * when the answer has a body (the subrequest is header-only, the body is
 * never read), so this variant shows what that costs by itself.
 *
 * SIGTERM or SIGINT stops it.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

static int with_body;
static const char allow_body[] =
    "{\"decision\":\"allow\",\"engineer\":\"eng1\",\"request_id\":"
    "\"req_aaaaaaaaaaaaaaaaaaaaaaaaaa\",\"resource\":"
    "\"mailbox/alice@contoso.example/inbox/1.eml\",\"tenant\":\"contoso\"}";

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	static int first_call_marker;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls; (void)url; (void)method; (void)version; (void)upload_data;
	if (*con_cls == NULL) {          /* headers only: wait for the body */
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {    /* a body chunk: ignore it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (with_body)
		resp = MHD_create_response_from_buffer(sizeof allow_body - 1,
		    (void *)allow_body, MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (with_body)
		MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, with_body ? MHD_HTTP_OK : MHD_HTTP_NO_CONTENT,
	    resp);
	MHD_destroy_response(resp);
	return ret;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	sigset_t sigs;
	int sig;
	long port, threads = 8;
	char *end;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s PORT [THREADS [body]]\n", argv[0]);
		return 2;
	}
	port = strtol(argv[1], &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "noop_authz: bad port '%s'\n", argv[1]);
		return 2;
	}
	if (argc == 4) {
		if (strcmp(argv[3], "body") != 0) {
			fprintf(stderr, "noop_authz: third argument must be 'body'\n");
			return 2;
		}
		with_body = 1;
	}
	if (argc >= 3) {
		threads = strtol(argv[2], &end, 10);
		if (*end != '\0' || threads < 1 || threads > 256) {
			fprintf(stderr, "noop_authz: bad thread count '%s'\n", argv[2]);
			return 2;
		}
	}

	/* Block the stop signals in every thread (MHD's inherit the mask);
	 * the main thread takes them with sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0,
	    NULL, NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "noop_authz: cannot listen on 127.0.0.1:%ld: %s\n",
		    port, strerror(errno));
		return 1;
	}

	while (sigwait(&sigs, &sig) != 0)
		;
	MHD_stop_daemon(d);
	return 0;
}
