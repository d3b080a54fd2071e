/* The libc functions libaom refers to that wasm32-unknown-unknown lacks, beyond the
 * allocator and maths that Rust provides (src/encode/libc_shim.rs). Our encoder path never
 * opens files (film-grain tables, debug dumps, partition-model files) nor parses option
 * strings, so file functions fail and number parsing is minimal; messages keep their format
 * string without the arguments. Declared here, not through wasi-libc's headers, so none
 * of wasi-libc's own (importing) implementations is assumed. */
#include <stdarg.h>
#include <stddef.h>

typedef struct mediaslim_no_file FILE;
FILE *const stderr = NULL;

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; a++, b++, n--) {
    if (*a != *b || !*a) return (unsigned char)*a - (unsigned char)*b;
  }
  return 0;
}

int strcmp(const char *a, const char *b) { return strncmp(a, b, (size_t)-1); }

static unsigned long parse_unsigned(const char *s, char **end, int base, int *negative) {
  while (*s == ' ' || *s == '\t' || *s == '\n') s++;
  *negative = *s == '-';
  if (*s == '-' || *s == '+') s++;
  if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    base = 16;
  } else if (base == 0) {
    base = s[0] == '0' ? 8 : 10;
  }
  unsigned long value = 0;
  for (;; s++) {
    int d = *s >= '0' && *s <= '9' ? *s - '0'
            : *s >= 'a' && *s <= 'z' ? *s - 'a' + 10
            : *s >= 'A' && *s <= 'Z' ? *s - 'A' + 10
                                      : 99;
    if (d >= base) break;
    value = value * (unsigned long)base + (unsigned long)d;
  }
  if (end) *end = (char *)s;
  return value;
}

long strtol(const char *s, char **end, int base) {
  int negative;
  unsigned long v = parse_unsigned(s, end, base, &negative);
  return negative ? -(long)v : (long)v;
}

unsigned long strtoul(const char *s, char **end, int base) {
  int negative;
  unsigned long v = parse_unsigned(s, end, base, &negative);
  return negative ? -v : v;
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list args) {
  (void)args;
  size_t len = strlen(fmt);
  if (n > 0) {
    size_t copy = len < n - 1 ? len : n - 1;
    for (size_t i = 0; i < copy; i++) buf[i] = fmt[i];
    buf[copy] = 0;
  }
  return (int)len;
}

int snprintf(char *buf, size_t n, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int len = vsnprintf(buf, n, fmt, args);
  va_end(args);
  return len;
}

/* libaom seeds nothing: a fixed LCG keeps encodes deterministic. */
static unsigned long rand_state = 1;
int rand(void) {
  rand_state = rand_state * 1103515245u + 12345u;
  return (int)((rand_state >> 16) & 0x7fff);
}

FILE *fopen(const char *path, const char *mode) {
  (void)path;
  (void)mode;
  return NULL;
}
int fclose(FILE *f) { (void)f; return -1; }
int feof(FILE *f) { (void)f; return 1; }
size_t fread(void *p, size_t size, size_t n, FILE *f) { (void)p; (void)size; (void)n; (void)f; return 0; }
size_t fwrite(const void *p, size_t size, size_t n, FILE *f) { (void)p; (void)size; (void)f; return n; }
int fseek(FILE *f, long offset, int whence) { (void)f; (void)offset; (void)whence; return -1; }
int fscanf(FILE *f, const char *fmt, ...) { (void)f; (void)fmt; return -1; }
int fprintf(FILE *f, const char *fmt, ...) { (void)f; (void)fmt; return 0; }
int fputc(int c, FILE *f) { (void)f; return c; }
