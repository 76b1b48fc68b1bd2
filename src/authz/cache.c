/*
 * A direct-mapped cache keyed by 32-byte digests.
 *
 * Each key picks one slot from its first bytes; a new entry replaces
 * whatever was there.  That is enough for remembering verified grants and
 * authenticated tokens: a miss only costs the full check again, never a
 * wrong answer, because an entry is used only when its whole key matches
 * and it is younger than the caller's age limit.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "authz/authz.h"

struct slot {
	bool used;
	uint8_t key[32];
	int64_t at_ms;
};

struct lb_cache {
	pthread_mutex_t mu;
	size_t slots, value_size;
	struct slot *meta;
	unsigned char *values;
};

int
cache_new(size_t slots, size_t value_size, struct lb_cache **out)
{
	struct lb_cache *c = calloc(1, sizeof(*c));

	if (c == NULL || slots == 0)
		goto fail;
	c->slots = slots;
	c->value_size = value_size;
	if ((c->meta = calloc(slots, sizeof(*c->meta))) == NULL ||
	    (c->values = calloc(slots, value_size)) == NULL)
		goto fail;
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return 0;
fail:
	if (c != NULL) {
		free(c->meta);
		free(c->values);
	}
	free(c);
	return LB_ERR_NOMEM;
}

void
cache_free(struct lb_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->meta);
	free(c->values);
	free(c);
}

static size_t
slot_of(const struct lb_cache *c, const uint8_t key[32])
{
	uint64_t v;

	memcpy(&v, key, sizeof(v));
	return (size_t)(v % c->slots);
}

int
cache_get(struct lb_cache *c, const uint8_t key[32], void *out, int64_t now_mono_ms,
    int64_t max_age_ms)
{
	size_t i = slot_of(c, key);
	int hit = 0;

	pthread_mutex_lock(&c->mu);
	if (c->meta[i].used && memcmp(c->meta[i].key, key, 32) == 0 &&
	    now_mono_ms - c->meta[i].at_ms < max_age_ms) {
		memcpy(out, c->values + i * c->value_size, c->value_size);
		hit = 1;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void
cache_put(struct lb_cache *c, const uint8_t key[32], const void *value, int64_t now_mono_ms)
{
	size_t i = slot_of(c, key);

	pthread_mutex_lock(&c->mu);
	c->meta[i].used = true;
	memcpy(c->meta[i].key, key, 32);
	c->meta[i].at_ms = now_mono_ms;
	memcpy(c->values + i * c->value_size, value, c->value_size);
	pthread_mutex_unlock(&c->mu);
}

void
cache_clear(struct lb_cache *c)
{
	pthread_mutex_lock(&c->mu);
	memset(c->meta, 0, c->slots * sizeof(*c->meta));
	pthread_mutex_unlock(&c->mu);
}
