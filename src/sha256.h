/* sha256.h: SHA-256 (FIPS 180-4), for content-addressing archived documents and hashing records.
 * Ownership: the context is the caller's; nothing is allocated. */
#ifndef SC_SHA256_H
#define SC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t len;      /* bytes hashed so far */
	unsigned char blk[64];
	size_t used;       /* bytes waiting in blk */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* One call: the lowercase hex digest of data into hex (SHA256_HEX_LEN bytes). */
void sha256_hex(const void *data, size_t n, char hex[SHA256_HEX_LEN]);

#endif
