/*
 * The daemon's only clock.
 *
 * The core never reads time; everything that decides passes clock_now_ms().
 * For end-to-end tests of 12-hour expiry, an offset can be read from a file
 * (--test-clock), but only when LOCKBOX_ALLOW_TEST_CLOCK=1 is set in the
 * environment, so a production configuration cannot move time by mistake.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sys/sys.h"

static pthread_mutex_t clock_mu = PTHREAD_MUTEX_INITIALIZER;
static char offset_path[LB_PATH_MAX];
static int64_t offset_ms;
static int64_t offset_read_at;

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
clock_use_offset_file(const char *path)
{
	const char *allow = getenv("LOCKBOX_ALLOW_TEST_CLOCK");

	if (allow == NULL || strcmp(allow, "1") != 0)
		return -1;
	if (strlen(path) >= sizeof(offset_path))
		return -1;
	pthread_mutex_lock(&clock_mu);
	memcpy(offset_path, path, strlen(path) + 1);
	offset_read_at = -1000;
	pthread_mutex_unlock(&clock_mu);
	return 0;
}

static int64_t
current_offset(void)
{
	int64_t off;

	pthread_mutex_lock(&clock_mu);
	if (offset_path[0] != '\0') {
		int64_t mono = clock_mono_ms();
		if (mono - offset_read_at >= 50) {
			FILE *fp = fopen(offset_path, "r");
			char buf[64];
			if (fp != NULL) {
				if (fgets(buf, sizeof(buf), fp) != NULL) {
					char *end;
					errno = 0;
					long long v = strtoll(buf, &end, 10);
					if (errno == 0 && end != buf)
						offset_ms = v;
				}
				fclose(fp);
			}
			offset_read_at = mono;
		}
	}
	off = offset_ms;
	pthread_mutex_unlock(&clock_mu);
	return off;
}

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (offset_path[0] == '\0')
		return now;
	return now + current_offset();
}
