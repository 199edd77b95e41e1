// dl's native body pump (src/http/h1/native-pump.ts; docs/architecture.md, "native body pump").
//
// pump(socketFd, fileFd, length, silenceMs, state, callback) moves `length` bytes from a socket
// to a file on a thread of its own, through one 1 MiB buffer, so that no byte of a big body
// enters JavaScript and the main thread stays free. The file is written at its own offset (dl
// opens `.part` files to append). `state` is a Float64Array(2) shared with JavaScript: the thread
// keeps the bytes moved so far in state[0] (for progress), and stops when JavaScript sets state[1]
// to anything but 0. `callback(errno, moved, writing)` comes back on the JavaScript thread once
// the thread has ended and will touch neither descriptor again: errno 0 when all `length` bytes
// were moved, -1 when the server closed the connection first, ETIMEDOUT after `silenceMs` of
// silence (0: no limit), ECANCELED when stopped, else the error of the read or, when `writing`
// is true, of the write. The thread works on duplicates of the descriptors it is given, and
// `state`'s buffer must stay where it is (not transferred to another thread) until the callback.
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include "napi-args.h"
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BUFFER_BYTES (1 << 20)
/** How often a silent socket's wait looks at the stop flags. */
#define STOP_CHECK_MS 50
#define END_OF_STREAM -1

typedef struct {
  int socket, file, error, writing;
  int64_t length, moved;
  double silence_ms;
  /** JavaScript's Float64Array(2): [0] bytes moved, written here; [1] a stop asked for. */
  double *state;
  napi_ref state_ref;
  napi_threadsafe_function done;
  pthread_t thread;
  /** Set by the environment's teardown (see teardown()): stop now. */
  int stop;
  /** The thread queued its callback, which then frees this. */
  int queued;
  /** The thread was joined (JavaScript's thread only). */
  int joined;
} Pump;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int stop_asked(Pump *pump) {
  double flag;
  int stop;
  __atomic_load(&pump->state[1], &flag, __ATOMIC_RELAXED);
  __atomic_load(&pump->stop, &stop, __ATOMIC_SEQ_CST);
  return flag != 0 || stop;
}

/** Writes buffer[0, n) to the file, counting what was written in `*written`; 0, or the errno. */
static int write_all(int fd, const char *buffer, ssize_t n, ssize_t *written) {
  for (*written = 0; *written < n;) {
    ssize_t put = write(fd, buffer + *written, n - *written);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return errno;
    if (put == 0) return EIO; // no progress on a file: never loop on it
    *written += put;
  }
  return 0;
}

static void count(Pump *pump, ssize_t bytes) {
  pump->moved += bytes;
  double moved = (double)pump->moved;
  __atomic_store(&pump->state[0], &moved, __ATOMIC_RELAXED);
}

static void *pump_thread(void *arg) {
  Pump *pump = arg;
  char *buffer = malloc(BUFFER_BYTES);
  double last_data = now_ms();
  if (!buffer) pump->error = ENOMEM;
  while (!pump->error && pump->moved < pump->length) {
    if (stop_asked(pump)) {
      pump->error = ECANCELED;
      break;
    }
    int64_t left = pump->length - pump->moved;
    ssize_t got = read(pump->socket, buffer, left < BUFFER_BYTES ? (size_t)left : BUFFER_BYTES);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket is non-blocking (libuv's): wait for bytes, looking at the stop flags now and then.
      struct pollfd ready = {pump->socket, POLLIN, 0};
      if (poll(&ready, 1, STOP_CHECK_MS) == 0 && pump->silence_ms > 0 && now_ms() - last_data >= pump->silence_ms) pump->error = ETIMEDOUT;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      pump->error = errno;
      break;
    }
    if (got == 0) {
      pump->error = END_OF_STREAM;
      break;
    }
    ssize_t written;
    int failed = write_all(pump->file, buffer, got, &written);
    // Bytes written before a failing write are in the file: counted, so the count is the file's.
    count(pump, written);
    if (failed) {
      pump->error = failed;
      pump->writing = 1;
      break;
    }
    last_data = now_ms();
  }
  free(buffer);
  // The thread's own descriptors (see start()): closed here, before the callback can come.
  close(pump->socket);
  close(pump->file);
  // From a queued call on, `pump` is the JavaScript thread's, which frees it: keep what is needed.
  napi_threadsafe_function done = pump->done;
  int yes = 1, no = 0;
  __atomic_store(&pump->queued, &yes, __ATOMIC_SEQ_CST);
  // napi_closing: the function is going and already counted this thread out; no release then.
  if (napi_call_threadsafe_function(done, pump, napi_tsfn_blocking) != napi_ok) __atomic_store(&pump->queued, &no, __ATOMIC_SEQ_CST);
  else napi_release_threadsafe_function(done, napi_tsfn_release);
  return NULL;
}

/**
 * The environment is going away (a worker ended, the process exits) with the pump running: the
 * thread is stopped and joined before the memory it uses goes. Cleanup hooks run in the reverse
 * order of their adding, so this runs before the threadsafe function's own teardown.
 */
static void teardown(void *arg) {
  Pump *pump = arg;
  int yes = 1, queued;
  __atomic_store(&pump->stop, &yes, __ATOMIC_SEQ_CST);
  pthread_join(pump->thread, NULL);
  pump->joined = 1;
  __atomic_load(&pump->queued, &queued, __ATOMIC_SEQ_CST);
  // A queued callback still comes (with no environment) and frees it; else nothing would.
  if (!queued) free(pump);
}

static void call_back(napi_env env, napi_value callback, void *context, void *data) {
  Pump *pump = data;
  // The thread has queued this and is ending: joined here, it is gone for sure.
  if (!pump->joined) pthread_join(pump->thread, NULL);
  if (!env) {
    free(pump); // the environment's teardown: nobody to tell
    return;
  }
  napi_remove_env_cleanup_hook(env, teardown, pump);
  napi_value argv[3], undefined;
  napi_get_undefined(env, &undefined);
  napi_create_int32(env, pump->error, &argv[0]);
  napi_create_int64(env, pump->moved, &argv[1]);
  napi_get_boolean(env, pump->writing, &argv[2]);
  napi_delete_reference(env, pump->state_ref);
  free(pump);
  if (callback) napi_call_function(env, undefined, callback, 3, argv, NULL);
}

/** start() could not start the pump: lets go of what it had made, and throws `message`. */
static napi_value give_up(napi_env env, Pump *pump, const char *message) {
  if (pump->done) napi_release_threadsafe_function(pump->done, napi_tsfn_release);
  if (pump->state_ref) napi_delete_reference(env, pump->state_ref);
  if (pump->socket >= 0) close(pump->socket);
  if (pump->file >= 0) close(pump->file);
  free(pump);
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t count = 0;
  double *data = NULL;
  int socket_fd, file_fd;
  int64_t length;
  double silence_ms;
  napi_valuetype callback_type;
  if (argc < 6 || napi_get_value_int32(env, argv[0], &socket_fd) != napi_ok || napi_get_value_int32(env, argv[1], &file_fd) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok || napi_get_value_double(env, argv[3], &silence_ms) != napi_ok ||
      !float64_array_arg(env, argv[4], 2, &data, &count) ||
      napi_typeof(env, argv[5], &callback_type) != napi_ok || callback_type != napi_function) {
    napi_throw_type_error(env, NULL, "pump(socketFd, fileFd, length, silenceMs, Float64Array(2), callback)");
    return NULL;
  }
  Pump *pump = calloc(1, sizeof *pump);
  if (!pump) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  // Descriptors of the thread's own: when the environment goes (worker.terminate()), Node closes
  // the socket's handle and FileHandles *before* any cleanup hook can stop the thread, and those
  // numbers are soon other files'. Duplicates keep pointing at this connection and this file.
  pump->socket = fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
  pump->file = pump->socket < 0 ? -1 : fcntl(file_fd, F_DUPFD_CLOEXEC, 0);
  if (pump->file < 0) return give_up(env, pump, "cannot duplicate the pump's descriptors");
  pump->length = length;
  pump->silence_ms = silence_ms;
  pump->state = data;
  // The typed array stays alive until the thread is done with it.
  napi_create_reference(env, argv[4], 1, &pump->state_ref);
  napi_create_string_utf8(env, "dl body pump", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[5], NULL, name, 0, 1, NULL, NULL, NULL, call_back, &pump->done) != napi_ok) {
    pump->done = NULL;
    return give_up(env, pump, "cannot make the pump's callback");
  }
  if (pthread_create(&pump->thread, NULL, pump_thread, pump) != 0) return give_up(env, pump, "cannot start the pump's thread");
  napi_add_env_cleanup_hook(env, teardown, pump);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value pump;
  napi_create_function(env, "pump", NAPI_AUTO_LENGTH, start, NULL, &pump);
  napi_set_named_property(env, exports, "pump", pump);
  return exports;
}
