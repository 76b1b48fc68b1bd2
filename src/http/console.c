/*
 * The web console's static files: GET /ui/ and /ui/<path> from --web-dir.
 *
 * The files are the only thing lockboxd serves from disk, so the path is
 * held to a narrow shape before it touches the file system: the raw path
 * (never percent-decoded: "%2e%2e" is just refused), segments of
 * [A-Za-z0-9._-] only, no empty segment ("//"), no segment starting with
 * '.' (so no "..", no hidden file), a bounded length and depth.  It is then
 * opened one segment at a time with openat(O_NOFOLLOW) from a descriptor
 * of the web directory, so no symbolic link inside it can lead outside;
 * only a regular file up to 4 MiB is sent, with a content type from a
 * fixed list (anything else is 404).  Every answer, 404s and redirects
 * included, carries the strict Content-Security-Policy of docs/api.md and
 * the headers that stop sniffing, framing and referrers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/http.h"

#define CONSOLE_PATH_MAX        256
#define CONSOLE_DEPTH_MAX       8
#define CONSOLE_FILE_MAX        (4 * 1024 * 1024)

static const char console_csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
};

bool
console_path(const char *path)
{
	return strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0 ||
	    strncmp(path, "/ui/", 4) == 0;
}

/*
 * Answers through the streamed-answer path (own headers).  `body` is
 * malloc'd and taken (NULL with len 0: no body); `location` for redirects.
 */
static int
reply(struct lb_ctx *c, int status, char *body, size_t len, const char *type,
    const char *location)
{
	struct MHD_Response *r;

	if (body != NULL)
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(body);
		return LB_ERR_NOMEM;
	}
	if (type != NULL)
		MHD_add_response_header(r, "Content-Type", type);
	if (location != NULL)
		MHD_add_response_header(r, "Location", location);
	MHD_add_response_header(r, "Content-Security-Policy", console_csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	if (c->resp_stream != NULL)
		MHD_destroy_response(c->resp_stream);
	c->resp_stream = r;
	c->status = status;
	return 0;
}

static int
not_found(struct lb_ctx *c)
{
	static const char text[] = "not found\n";
	char *body = malloc(sizeof(text));

	if (body == NULL)
		return LB_ERR_NOMEM;
	memcpy(body, text, sizeof(text));
	return reply(c, 404, body, sizeof(text) - 1, "text/plain; charset=utf-8", NULL);
}

/* The content type of `rel` by its extension; NULL: not served. */
static const char *
type_of(const char *rel)
{
	const char *dot = strrchr(rel, '.');
	const char *slash = strrchr(rel, '/');

	if (dot == NULL || (slash != NULL && dot < slash))
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* The shape a served path must have (see the top of the file). */
static bool
rel_ok(const char *rel)
{
	size_t n = strlen(rel), depth = 1;
	bool seg_start = true;

	if (n == 0 || n > CONSOLE_PATH_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = rel[i];
		if (ch == '/') {
			if (seg_start || ++depth > CONSOLE_DEPTH_MAX)
				return false;   /* empty segment, or too deep */
			seg_start = true;
			continue;
		}
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
		if (seg_start && ch == '.')
			return false;           /* ".", "..", hidden files */
		seg_start = false;
	}
	return !seg_start;                      /* no trailing '/' */
}

/*
 * Opens `rel` (already checked by rel_ok) below the directory `root`, one
 * segment at a time, following no symbolic link.  Returns a descriptor of
 * a regular file, or -1.
 */
static int
open_below(const char *root, const char *rel)
{
	char seg[CONSOLE_PATH_MAX + 1];
	struct stat sb;
	int dfd, fd = -1;

	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		const char *slash = strchr(rel, '/');
		size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
		memcpy(seg, rel, n);
		seg[n] = '\0';
		if (slash == NULL) {
			fd = openat(dfd, seg, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			break;
		}
		int next = openat(dfd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if ((dfd = next) < 0)
			return -1;
		rel = slash + 1;
	}
	close(dfd);
	if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > CONSOLE_FILE_MAX)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Reads all of fd (a regular file of at most CONSOLE_FILE_MAX bytes). */
static int
read_all(int fd, char **out, size_t *len)
{
	struct stat sb;
	char *buf = NULL;
	size_t n = 0, cap;
	int rc = LB_ERR_NOT_FOUND;

	if (fstat(fd, &sb) != 0 || sb.st_size < 0 || sb.st_size > CONSOLE_FILE_MAX)
		goto out;
	cap = (size_t)sb.st_size;
	if ((buf = malloc(cap + 1)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;                  /* shrank under us: send what is there */
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
h_console(struct lb_ctx *c, const char *path)
{
	const char *rel, *type;
	char *body = NULL;
	size_t len = 0;
	int fd, rc;

	if (strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0)
		return LB_ERR_METHOD;
	/* "/" and "/ui" go to "/ui/", so relative links in the pages resolve. */
	if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0)
		return reply(c, 302, NULL, 0, NULL, "/ui/");
	rel = path + 4;
	if (*rel == '\0')
		rel = "index.html";
	if (!rel_ok(rel) || (type = type_of(rel)) == NULL)
		return not_found(c);
	if ((fd = open_below(c->app->cfg->web_dir, rel)) < 0)
		return not_found(c);
	rc = read_all(fd, &body, &len);
	close(fd);
	if (rc == LB_ERR_NOT_FOUND)
		return not_found(c);
	if (rc != 0)
		return rc;
	return reply(c, 200, body, len, type, NULL);
}
