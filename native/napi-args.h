// Reading arguments in dl's native helpers (pump.c, fetcher.c): the checks both make.
#ifndef DL_NAPI_ARGS_H
#define DL_NAPI_ARGS_H

#include <node_api.h>
#include <stddef.h>

/** `value` as a Float64Array of at least `min` elements: its memory and its length, or 0. */
static inline int float64_array_arg(napi_env env, napi_value value, size_t min, double **data, size_t *length) {
  napi_typedarray_type type;
  void *bytes = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &bytes, NULL, NULL) != napi_ok || type != napi_float64_array || *length < min) return 0;
  *data = bytes;
  return 1;
}

#endif
