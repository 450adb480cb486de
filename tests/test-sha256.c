/* test-sha256.c: the FIPS 180-4 / NIST example vectors, and split updates. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "unit.h"

static void check(const char *in, size_t n, const char *want)
{
	char hex[SHA256_HEX_LEN];
	sha256_hex(in, n, hex);
	CHECK_STR(hex, want);
}

int main(void)
{
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
	      "mnopqrstnopqrstu", 112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	check("The quick brown fox jumps over the lazy dog", 43,
	      "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");

	/* a million 'a's, fed in uneven pieces to exercise the block buffer */
	struct sha256 c;
	unsigned char d[SHA256_LEN];
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	sha256_init(&c);
	size_t off = 0, step = 1;
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;
		sha256_update(&c, a + off, n);
		off += n;
		step = step * 7 % 131 + 1;
	}
	sha256_final(&c, d);
	free(a);
	static const unsigned char want[SHA256_LEN] = {
		0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
		0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0,
	};
	CHECK(memcmp(d, want, SHA256_LEN) == 0, "one million 'a' in pieces");

	/* every length around the padding boundary matches a one-shot hash of the same bytes */
	char buf[200];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)('a' + i % 26);
	for (size_t n = 50; n < 140; n++) {
		char one[SHA256_HEX_LEN], two[SHA256_HEX_LEN];
		sha256_hex(buf, n, one);
		sha256_init(&c);
		sha256_update(&c, buf, n / 3);
		sha256_update(&c, buf + n / 3, n - n / 3);
		sha256_final(&c, d);
		static const char digits[] = "0123456789abcdef";
		for (int i = 0; i < SHA256_LEN; i++) {
			two[2 * i] = digits[d[i] >> 4];
			two[2 * i + 1] = digits[d[i] & 15];
		}
		two[64] = '\0';
		CHECK(strcmp(one, two) == 0, "split update at length %zu", n);
	}
	return unit_summary();
}
