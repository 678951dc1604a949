/* Static glibc program exercising floating point as real programs use it:
 * printf %f/%e/%g/%a over many values, strtod round trips, libm (sin, cos,
 * exp, log, pow, sqrt, floor, fmod...), float <-> integer conversions and
 * the string routines over many lengths and alignments. Its output under
 * our runner must equal its output under qemu-aarch64 -cpu cortex-a53. */
#include <arm_neon.h>
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static double rnd_double(void) {
    uint64_t r = rnd();
    switch (r % 8) {
    case 0: { double d; uint64_t b = rnd(); memcpy(&d, &b, 8); return isnan(d) ? 1.5 : d; }
    case 1: return (double)(int64_t)rnd() / (double)(1ull << (rnd() % 63));
    case 2: return ldexp((double)(rnd() % 1000000), (int)(rnd() % 200) - 100);
    case 3: return (double)(rnd() % 100000) / 100.0;
    case 4: return -(double)(rnd() % 1000) / 7.0;
    case 5: return ldexp(1.0, (int)(rnd() % 2100) - 1075);
    default: return ((double)(rnd() >> 11) / 9007199254740992.0 - 0.5) * 1e6;
    }
}

static uint64_t hash = 1469598103934665603ull;
static void mix(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        hash = (hash ^ c[i]) * 1099511628211ull;
}

static void print_formats(void) {
    static const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 2.5, 3.5, 1e-300, 1e300,
                                   4.9e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                                   123456789.125, 1e21, 1e22, 9007199254740993.0, INFINITY,
                                   -INFINITY, NAN, 0.3333333333333333, 6.02214076e23};
    char buf[512];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        double d = fixed[i];
        printf("%g %e %.17g %a %f %.3f %10.4e %-12g|\n", d, d, d, d, d, d, d, d);
    }
    for (int i = 0; i < 600; i++) {
        double d = rnd_double();
        float f = (float)d;
        int n = snprintf(buf, sizeof buf, "%.17g %e %g %a %.*f %g %.9g", d, d, d, d, (int)(rnd() % 12), d, (double)f, (double)f);
        mix(buf, (size_t)n);
        if (i % 40 == 0)
            puts(buf);
        /* strtod round trip */
        char *end;
        double back = strtod(buf, &end);
        if (back != d && !(isnan(d) && isnan(back)))
            printf("roundtrip %d: %a -> %s -> %a\n", i, d, buf, back);
        float fb = strtof(buf + strlen(buf) - 1 > buf ? strrchr(buf, ' ') + 1 : buf, NULL);
        mix(&fb, sizeof fb);
    }
    const char *strs[] = {"0x1.8p3", "1e-400", "-1e400", "inf", "-nan", "123.456e-7", "  42", "0.1e1x",
                          "2.2250738585072011e-308", "4.9406564584124654e-324", "1.000000000000000111"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        char *end;
        double d = strtod(strs[i], &end);
        float f = strtof(strs[i], NULL);
        long double ld = strtold(strs[i], NULL);
        printf("strtod(%s) = %a %g rest '%s' strtof %a strtold %Lg\n", strs[i], d, d, end, (double)f, ld);
    }
}

static void libm(void) {
    for (int i = 0; i < 400; i++) {
        double x = rnd_double();
        double y = rnd_double();
        double s = fmod(x, 1000.0);
        double r[] = {sin(s), cos(s), tan(s), exp(s / 100), log(fabs(x) + 1e-300), log10(fabs(x) + 1),
                      pow(fabs(s), y / 1e5), sqrt(fabs(x)), floor(x), ceil(x), round(x), trunc(x),
                      fmod(x, y), atan2(x, y), hypot(s, y / 1e3), cbrt(x), expm1(s / 1000),
                      log1p(fabs(s)), asin(s / 1000), acos(s / 1000), atan(x), sinh(s / 100),
                      cosh(s / 100), tanh(s), fma(x, y, s), copysign(s, y), nearbyint(s), rint(s / 3),
                      remainder(s, 7.5), ldexp(s, (int)(rnd() % 40) - 20), fmin(x, y), fmax(x, y)};
        mix(r, sizeof r);
        float fx = (float)s;
        float fr[] = {sinf(fx), cosf(fx), expf(fx / 100), logf(fabsf(fx) + 1), powf(fabsf(fx), 0.37f),
                      sqrtf(fabsf(fx)), floorf(fx), fmodf(fx, 3.25f), atan2f(fx, 2.0f)};
        mix(fr, sizeof fr);
        long long ll = llrint(s);
        long lr = lround(s * 3);
        int e;
        double m = frexp(x, &e);
        unsigned long long u = (unsigned long long)fabs(s);
        int si = (int)s;
        mix(&ll, sizeof ll);
        mix(&lr, sizeof lr);
        mix(&m, sizeof m);
        mix(&e, sizeof e);
        mix(&u, sizeof u);
        mix(&si, sizeof si);
        if (i % 50 == 0)
            printf("libm %d: x=%.17g sin=%.17g exp=%.17g pow=%.17g fma=%.17g sinf=%.9g hash %llx\n", i, x, r[0], r[3], r[6], r[24], (double)fr[0], (unsigned long long)hash);
    }
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    for (int k = 0; k < 4; k++) {
        fesetround(modes[k]);
        volatile double a = 1.0, b = 3.0;
        double q = a / b;
        feclearexcept(FE_ALL_EXCEPT);
        volatile double t = 1e308;
        t = t * 10;
        int ex = fetestexcept(FE_ALL_EXCEPT);
        printf("mode %d: %.17g %a rint(2.5)=%g flags %x\n", k, q, q, rint(2.5), ex);
    }
    fesetround(FE_TONEAREST);
}

static void strings(void) {
    static char a[4096 + 128], b[4096 + 128];
    for (int len = 0; len < 300; len += 1 + len / 16) {
        for (int al = 0; al < 16; al++) {
            for (int i = 0; i < len; i++)
                a[al + i] = (char)('A' + (rnd() % 50));
            a[al + len] = 0;
            int bl = (al * 7) % 16;
            memcpy(b + bl, a + al, (size_t)len + 1);
            size_t sl = strlen(a + al);
            char c = (char)('A' + rnd() % 50);
            char *p1 = strchr(a + al, c), *p2 = strrchr(a + al, c);
            void *p3 = memchr(a + al, c, (size_t)len);
            int c1 = strcmp(a + al, b + bl), c2 = memcmp(a + al, b + bl, (size_t)len);
            if (len > 0)
                b[bl + len - 1] ^= 1;
            int c3 = strncmp(a + al, b + bl, (size_t)len), c4 = memcmp(a + al, b + bl, (size_t)len);
            char *p4 = strstr(a + al, "QR");
            size_t cs = strcspn(a + al, "XYZ"), sp = strspn(a + al, "ABCDEFGHIJKLMNOP");
            memset(b + bl, c, (size_t)len / 2);
            memmove(b + bl + 1, b + bl, (size_t)len / 3);
            long r[] = {(long)sl, p1 ? p1 - a : -1, p2 ? p2 - a : -1, p3 ? (char *)p3 - a : -1,
                        c1 > 0 ? 1 : c1 < 0 ? -1 : 0, c2 != 0, c3 > 0 ? 1 : c3 < 0 ? -1 : 0,
                        c4 > 0 ? 1 : c4 < 0 ? -1 : 0, p4 ? p4 - a : -1, (long)cs, (long)sp,
                        (long)strnlen(b + bl, (size_t)len)};
            mix(r, sizeof r);
            mix(b + bl, (size_t)len);
        }
        if (len % 20 == 0)
            printf("strings len %d hash %llx\n", len, (unsigned long long)hash);
    }
}

/* Compiler-vectorised loops and NEON intrinsics: the AdvSIMD integer and
 * FP groups, structure loads/stores, table lookups, saturation (FPSR.QC). */
static void kernels(void) {
    static float fa[256], fb[256], fc[256];
    static double da[128], db[128];
    static int16_t ia[256], ib[256];
    static uint8_t bytes[512];
    for (int i = 0; i < 256; i++) {
        fa[i] = (float)rnd_double() / 1000.0f;
        fb[i] = (float)(rnd() % 2001) / 7.0f - 100.0f;
        ia[i] = (int16_t)rnd();
        ib[i] = (int16_t)(rnd() % 300);
    }
    for (int i = 0; i < 128; i++) {
        da[i] = rnd_double();
        db[i] = (double)(int64_t)(rnd() % 100000) / 3.0;
    }
    for (int i = 0; i < 512; i++)
        bytes[i] = (uint8_t)rnd();
    float dot = 0;
    for (int i = 0; i < 256; i++) {
        fc[i] = fa[i] * fb[i] + fc[i];
        dot += fa[i] * fb[i];
    }
    double dsum = 0;
    for (int i = 0; i < 128; i++)
        dsum += da[i] / (db[i] + 1.0);
    int32_t isum = 0;
    for (int i = 0; i < 256; i++)
        isum += ia[i] * ib[i];
    mix(fc, sizeof fc);
    mix(&dot, sizeof dot);
    mix(&dsum, sizeof dsum);
    mix(&isum, sizeof isum);

    float32x4_t acc = vdupq_n_f32(0.5f);
    int16x8_t sat = vdupq_n_s16(0);
    uint8x16_t bacc = vdupq_n_u8(0);
    for (int i = 0; i < 256; i += 8) {
        float32x4_t x = vld1q_f32(fa + i), y = vld1q_f32(fb + i);
        acc = vfmaq_f32(acc, x, y);
        acc = vmaxnmq_f32(acc, vrndnq_f32(vmulq_n_f32(y, 0.25f)));
        int32x4_t cv = vcvtq_s32_f32(vdivq_f32(y, vaddq_f32(vabsq_f32(x), vdupq_n_f32(1.0f))));
        float32x4_t back = vcvtq_n_f32_s32(cv, 3);
        acc = vaddq_f32(acc, vpaddq_f32(back, vsqrtq_f32(vabsq_f32(y))));
        int16x8_t a = vld1q_s16(ia + i), b = vld1q_s16(ib + i);
        sat = vqaddq_s16(sat, vqdmulhq_s16(a, b));
        sat = vqsubq_s16(sat, vqrshlq_s16(a, vnegq_s16(b)));
        int32x4_t wide = vmull_s16(vget_low_s16(a), vget_high_s16(b));
        sat = veorq_s16(sat, vcombine_s16(vqmovn_s32(wide), vqshrn_n_s32(wide, 7)));
        uint8x16x2_t tbl2 = vld2q_u8(bytes + 2 * i);
        uint8x16_t idx = vandq_u8(vld1q_u8(bytes + i + 100), vdupq_n_u8(31));
        bacc = vaddq_u8(bacc, vqtbl2q_u8(tbl2, idx));
        bacc = vqaddq_u8(bacc, vrev64q_u8(vcntq_u8(tbl2.val[0])));
        uint8x16x3_t t3 = {{bacc, vzip1q_u8(bacc, idx), vuzp2q_u8(idx, bacc)}};
        vst3q_u8(bytes + 300, t3);
        float64x2_t d = vld1q_f64(da + (i / 2) % 126);
        d = vfmaq_laneq_f64(vld1q_f64(db + (i / 2) % 126), d, d, 1);
        mix(&d, sizeof d);
    }
    mix(&acc, sizeof acc);
    mix(&sat, sizeof sat);
    mix(&bacc, sizeof bacc);
    mix(bytes, sizeof bytes);
    float m = vmaxvq_f32(acc), n = vminnmvq_f32(acc);
    int32_t addv = vaddvq_s16(sat) + vmaxvq_u8(bacc);
    uint64_t fpsr;
    __asm__ volatile("mrs %0, fpsr" : "=r"(fpsr));
    printf("kernels: dot %a dsum %a isum %d max %a min %a addv %d fpsr %llx hash %llx\n", (double)dot,
           dsum, isum, (double)m, (double)n, addv, (unsigned long long)fpsr, (unsigned long long)hash);
}

int main(void) {
    print_formats();
    kernels();
    libm();
    strings();
    printf("final hash %llx\n", (unsigned long long)hash);
    return 0;
}
