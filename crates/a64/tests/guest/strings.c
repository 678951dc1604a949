/* Static glibc program exercising the string and memory routines (which
 * use AdvSIMD), stdio formatting of integers, malloc and qsort. Its output
 * under our runner must equal its output under qemu-aarch64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 0x243F6A8885A308D3ull;
static unsigned rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state >> 16);
}

static int cmp(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    static char buf[8192], dst[8192];
    unsigned long h = 5381;
    for (int round = 0; round < 300; round++) {
        size_t len = rnd() % 3000, off = rnd() % 64, doff = rnd() % 64;
        for (size_t i = 0; i < len; i++)
            buf[off + i] = (char)('a' + rnd() % 26);
        buf[off + len] = 0;
        int c = 'a' + rnd() % 26;
        char *p = strchr(buf + off, c), *q = memchr(buf + off, c, len), *r = strrchr(buf + off, c);
        memcpy(dst + doff, buf + off, len + 1);
        memmove(dst + doff + 1, dst + doff, len / 2);
        memset(dst + doff + len / 3, c, len / 5);
        h = h * 33 + strlen(buf + off);
        h = h * 33 + (p ? (unsigned long)(p - buf) : 7);
        h = h * 33 + (q ? (unsigned long)(q - buf) : 11);
        h = h * 33 + (r ? (unsigned long)(r - buf) : 13);
        h = h * 33 + (unsigned long)(strcmp(buf + off, dst + doff) + 1000);
        h = h * 33 + (unsigned long)(memcmp(buf + off, dst + doff, len) + 1000);
        h = h * 33 + strnlen(dst + doff, len / 2 + 1);
        h = h * 33 + strspn(buf + off, "abcdefghijklm");
        h = h * 33 + strcspn(buf + off, "xyz");
        if (round % 50 == 0)
            printf("round %d len %zu hash %lx\n", round, len, h);
    }
    unsigned *v = malloc(5000 * sizeof *v);
    for (int i = 0; i < 5000; i++)
        v[i] = rnd();
    qsort(v, 5000, sizeof *v, cmp);
    char line[200];
    snprintf(line, sizeof line, "%u %u %08x %-6d|%+lld %s", v[0], v[4999], v[2500], -42, -123456789012345ll, argv[0]);
    puts(line);
    free(v);
    printf("argc %d final %lx\n", argc, h);
    return 7;
}
