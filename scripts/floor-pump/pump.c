// The native body pump of scripts/bench-floor-pump.js (a floor of `npm run bench`, not part of dl).
// pump(socketFd, fileFd, length, callback(errno | undefined, moved)) moves `length` bytes from a
// socket to a file on a thread of its own, through one 1 MiB buffer, so that no byte of the body
// enters JavaScript; the callback comes back to the JS thread through a threadsafe function.
#include <errno.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define BUFFER_BYTES (1 << 20)
#define SILENCE_MS 30000 /* the socket silent this long: ETIMEDOUT */
#define END_OF_STREAM -1 /* the server closed before `length` bytes */

typedef struct {
  int socket, file, error;
  int64_t length, moved;
  napi_threadsafe_function done;
} Pump;

static void *pump_thread(void *arg) {
  Pump *pump = arg;
  char *buffer = malloc(BUFFER_BYTES);
  if (!buffer) pump->error = ENOMEM;
  while (buffer && !pump->error && pump->moved < pump->length) {
    int64_t left = pump->length - pump->moved;
    ssize_t got = read(pump->socket, buffer, left < BUFFER_BYTES ? (size_t)left : BUFFER_BYTES);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket is non-blocking (libuv made it so): wait until it has bytes.
      struct pollfd ready = {pump->socket, POLLIN, 0};
      if (poll(&ready, 1, SILENCE_MS) == 0) pump->error = ETIMEDOUT;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      pump->error = got == 0 ? END_OF_STREAM : errno;
      break;
    }
    for (ssize_t at = 0; at < got;) {
      ssize_t put = write(pump->file, buffer + at, got - at);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) {
        pump->error = errno;
        break;
      }
      at += put;
    }
    if (!pump->error) pump->moved += got;
  }
  free(buffer);
  napi_call_threadsafe_function(pump->done, pump, napi_tsfn_blocking);
  napi_release_threadsafe_function(pump->done, napi_tsfn_release);
  return NULL;
}

static void call_back(napi_env env, napi_value callback, void *context, void *data) {
  Pump *pump = data;
  napi_value argv[2], undefined;
  napi_get_undefined(env, &undefined);
  if (pump->error) napi_create_int32(env, pump->error, &argv[0]);
  else argv[0] = undefined;
  napi_create_int64(env, pump->moved, &argv[1]);
  napi_call_function(env, undefined, callback, 2, argv, NULL);
  free(pump);
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Pump *pump = calloc(1, sizeof *pump);
  if (!pump) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_int32(env, argv[0], &pump->socket);
  napi_get_value_int32(env, argv[1], &pump->file);
  napi_get_value_int64(env, argv[2], &pump->length);
  napi_create_string_utf8(env, "pump", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, NULL, call_back, &pump->done);
  pthread_t thread;
  pthread_attr_t detached;
  pthread_attr_init(&detached);
  pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &detached, pump_thread, pump) != 0) {
    napi_release_threadsafe_function(pump->done, napi_tsfn_release);
    free(pump);
    napi_throw_error(env, NULL, "cannot start a thread");
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value pump;
  napi_create_function(env, "pump", NAPI_AUTO_LENGTH, start, NULL, &pump);
  napi_set_named_property(env, exports, "pump", pump);
  return exports;
}
