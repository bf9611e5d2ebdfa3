/* music_names.c: see music_names.h. */
#define _POSIX_C_SOURCE 200809L
#include "music_names.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *path_join(const char *a, const char *b) {
  if (b[0] == '/' || !a[0]) return strdup(b);
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 2);
  if (!s) return NULL;
  memcpy(s, a, la);
  size_t k = la;
  if (a[la - 1] != '/') s[k++] = '/';
  memcpy(s + k, b, lb + 1);
  return s;
}

char *path_dirname(const char *p) {
  const char *slash = strrchr(p, '/');
  size_t n = slash ? (size_t)(slash - p) + 1 : 0;
  char *s = strndup(p, n);
  if (!s) return NULL;
  bool all = true;
  for (size_t i = 0; i < n; i++) all = all && s[i] == '/';
  if (!all)
    while (n > 0 && s[n - 1] == '/') s[--n] = '\0';
  return s;
}

const char *path_basename(const char *p) {
  const char *slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

char *path_stem(const char *p) {
  const char *base = path_basename(p), *dot = strrchr(base, '.');
  if (dot) {
    for (const char *c = base; c < dot; c++)
      if (*c != '.') return strndup(p, (size_t)(dot - p));
  }
  return strdup(p);
}

char *path_absolute(const char *p) {
  char *joined;
  if (p[0] == '/') {
    joined = strdup(p);
  } else {
    char *cwd = getcwd(NULL, 0);
    if (!cwd) return NULL;
    joined = path_join(cwd, p);
    free(cwd);
  }
  if (!joined) return NULL;
  /* posixpath.normpath: one or two leading slashes kept (three or more: one) */
  int lead = joined[0] == '/' ? (joined[1] == '/' && joined[2] != '/' ? 2 : 1) : 0;
  size_t n = strlen(joined);
  char *out = malloc(n + 3);
  const char **comps = malloc((n / 2 + 2) * sizeof *comps);
  size_t *lens = malloc((n / 2 + 2) * sizeof *lens);
  if (!out || !comps || !lens) {
    free(joined), free(out), free(comps), free(lens);
    return NULL;
  }
  size_t k = 0;
  for (char *c = joined; *c;) {
    while (*c == '/') c++;
    if (!*c) break;
    char *e = c;
    while (*e && *e != '/') e++;
    size_t len = (size_t)(e - c);
    if (len == 1 && c[0] == '.') {
      /* skip */
    } else if (len == 2 && c[0] == '.' && c[1] == '.' &&
               !((!lead && k == 0) || (k > 0 && lens[k - 1] == 2 && !strncmp(comps[k - 1], "..", 2)))) {
      if (k > 0) k--;
    } else {
      comps[k] = c, lens[k++] = len;
    }
    c = e;
  }
  size_t o = 0;
  for (int i = 0; i < lead; i++) out[o++] = '/';
  for (size_t i = 0; i < k; i++) {
    if (i) out[o++] = '/';
    memcpy(out + o, comps[i], lens[i]);
    o += lens[i];
  }
  if (o == 0) out[o++] = '.';
  out[o] = '\0';
  free(joined), free(comps), free(lens);
  return out;
}

static bool allowed(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '+' || c == '-';
}

char *music_flat_name(const char *pkg, const char *source) {
  const char *s = source;
  if (!strncmp(s, "usr/share/", 10)) s += strncmp(s + 10, "games/", 6) ? 10 : 16;
  size_t lp = strlen(pkg), ls = strlen(s);
  char *out = malloc(lp + 2 + ls + 1);
  if (!out) return NULL;
  memcpy(out, pkg, lp);
  size_t o = lp;
  out[o++] = '_', out[o++] = '_';
  /* a run of disallowed characters (a UTF-8 character's bytes all are) is
   * one _, as Python's re.sub('[^A-Za-z0-9._+-]+', '_') on the decoded name */
  for (size_t i = 0; i < ls;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '!' || c == '/') c = '_';
    if (allowed(c)) {
      out[o++] = (char)c;
      i++;
      continue;
    }
    while (i < ls) {
      unsigned char d = (unsigned char)s[i];
      if (d == '!' || d == '/' || allowed(d)) break;
      i++;
    }
    out[o++] = '_';
  }
  out[o] = '\0';
  return out;
}

char *music_format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}
