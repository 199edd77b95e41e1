// dl's native fetcher (src/http/native-fetcher.ts; docs/architecture.md, "The native fetcher").
//
// Whole exchanges for small files on one thread of its own, with epoll: the request is written,
// the answer's head read, and a plain answer (200, framed by a Content-Length of at most the
// request's limit) is written to `<name>.part`, which is renamed to its final name once whole.
// No byte of it, and no system call for it, is on the JavaScript thread; a bulk run of small
// files spent most of that thread there. Any other answer (another status, chunked, too big, a
// head it does not read plainly) is handed over with its connection: JavaScript gets the socket
// and the bytes read so far, and its own connections, which know every rule, take it from there.
//
//   start(callback, progress)                once per process; progress: a Float64Array
//   fetch(id, origin, addresses, port, head, part, final, limit, connectMs, headersMs, bodyMs, slot)
//   cancel(id)                               ends a request with CANCELED
//   closeIdle()                              closes the connections no request uses
//   ref(on)                                  whether requests under way keep the process alive
//   callback(id, result, detail, bytes, kept) on the JavaScript thread, once per request
//
// result: 0 done (bytes written and renamed); > 0 an errno, detail the stage (1 connect, 2 the
// socket, 3 open, 4 write, 5 close, 6 rename); CLOSED (the server closed before the answer was whole; detail the body's
// length, -1 when the head had not come); TIMEOUT (detail 1 connect, 2 headers, 3 body);
// CANCELED; HANDED (detail the socket's descriptor, now JavaScript's; kept the bytes read).
// A failure once the body has begun leaves the `.part` as it is and gives the answer's head in
// `kept`: JavaScript keeps the file to resume when the head gives a version. While a body flows,
// progress[2 * slot] follows its bytes and progress[2 * slot + 1] holds its length.
// A request that a reused connection lost before any answer came (the server had closed it)
// goes out again on a fresh one, as dl's JavaScript connections do.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include "napi-args.h"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BYTES (64 * 1024)
#define MAX_EVENTS 64
#define MAX_ADDRESSES 8
/** An idle connection is closed after this long, before a server's usual keep-alive timeout. */
#define IDLE_MS 4000

enum { DONE = 0, CLOSED = -1, TIMEOUT = -3, CANCELED = -4, HANDED = -5 };
enum { STAGE_CONNECT = 1, STAGE_SOCKET = 2, STAGE_OPEN = 3, STAGE_WRITE = 4, STAGE_CLOSE = 5, STAGE_RENAME = 6 };
enum { PHASE_IDLE, PHASE_CONNECT, PHASE_HEAD, PHASE_BODY };

typedef struct Request {
  double id;
  char *origin, *head, *part, *final;
  size_t head_len;
  struct sockaddr_storage addresses[MAX_ADDRESSES];
  socklen_t address_lens[MAX_ADDRESSES];
  int address_count;
  int64_t limit, bytes;
  double connect_ms, headers_ms, body_ms;
  int result, detail, sent_again;
  /** Where this request's progress goes in the shared state (-1: nowhere). */
  int slot;
  /**
   * Bytes for JavaScript with the result: for HANDED, all that was read of the answer; for a
   * failure once the body had begun, the answer's head (its version decides whether the `.part`
   * is kept).
   */
  char *kept;
  size_t kept_len;
  struct Request *next;
} Request;

typedef struct Conn {
  int fd, file, phase, keep_alive, served, answered, address;
  char *origin;
  double deadline;
  Request *req;
  char *buf;
  /** Bytes gathered of the answer's head, at the buffer's start. */
  size_t have;
  /**
   * Bytes of an accepted head (a file's answer), kept at the buffer's start while its body is read
   * past them, for a failure to send back (see fail); 0 before that.
   */
  size_t head;
  int64_t left;
  struct Conn *prev, *next;
} Conn;

static struct {
  pthread_mutex_t lock;
  Request *incoming, *incoming_last, *done, *done_last;
  /** Ids to cancel (a list of requests used as cells). */
  Request *cancels;
  int close_idle, stop, sleeping;
  int epfd, wake;
  napi_threadsafe_function callback;
  pthread_t thread;
  /** Every connection, for timeouts and for closing. */
  Conn *all;
  int started;
  /** Shared with JavaScript: per slot, the body's bytes written and its length (-1 unknown). */
  double *progress;
  size_t slots;
} E = {.lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .wake = -1};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void free_request(Request *req) {
  free(req->origin);
  free(req->head);
  free(req->part);
  free(req->final);
  free(req->kept);
  free(req);
}

/** The request's answer, to JavaScript: queued, with one call for all that are queued. */
static void finish(Request *req, int result, int detail) {
  req->result = result;
  req->detail = detail;
  req->next = NULL;
  pthread_mutex_lock(&E.lock);
  int first = E.done == NULL;
  if (E.done_last) E.done_last->next = req;
  else E.done = req;
  E.done_last = req;
  pthread_mutex_unlock(&E.lock);
  if (first) napi_call_threadsafe_function(E.callback, NULL, napi_tsfn_nonblocking);
}

/** The connection's memory, and its place in the list; its socket is closed or handed over already. */
static void conn_forget(Conn *c) {
  if (c->prev) c->prev->next = c->next;
  else E.all = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c->buf);
  free(c->origin);
  free(c);
}

static void conn_close(Conn *c) {
  epoll_ctl(E.epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  conn_forget(c);
}

static void start(Request *req, int fresh);

/**
 * The file of a request that did not end well, closed. Its `.part` stays: JavaScript keeps it to
 * resume when the answer's head gives a version, and removes it when not.
 */
static void close_file(Conn *c) {
  if (c->file < 0) return;
  close(c->file);
  c->file = -1;
}

/** A copy of `n` bytes for JavaScript with the request's result (see Request.kept); 0 when out of memory. */
static int keep(Request *req, const char *bytes, size_t n) {
  req->kept = malloc(n ? n : 1);
  if (!req->kept) return 0;
  memcpy(req->kept, bytes, n);
  req->kept_len = n;
  return 1;
}

/** Ends the connection, and its request with `result` (or sends the request again: see above). */
static void fail(Conn *c, int result, int detail) {
  Request *req = c->req;
  if (req) close_file(c);
  // Once a head was accepted, it goes back with the failure: its version decides what the `.part` is worth.
  if (req && c->head) keep(req, c->buf, c->head);
  int again = req && !c->answered && c->served > 0 && !req->sent_again && result != CANCELED && result != TIMEOUT;
  conn_close(c);
  if (!req) return;
  if (again) {
    req->sent_again = 1;
    // On a fresh connection: another idle one may be as stale as this one was, and closing it
    // here could free a connection that has an event waiting in the engine's current batch.
    start(req, 1);
  } else {
    finish(req, result, detail);
  }
}

static void arm(Conn *c, int phase, double ms) {
  c->phase = phase;
  c->deadline = ms > 0 ? now_ms() + ms : 0;
}

static void send_request(Conn *c) {
  Request *req = c->req;
  c->have = 0;
  c->head = 0;
  c->answered = 0;
  c->left = 0;
  size_t at = 0;
  while (at < req->head_len) {
    ssize_t n = send(c->fd, req->head + at, req->head_len - at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    // A request head is far smaller than a fresh socket's send buffer: EAGAIN here is a
    // connection in trouble, and failing it is simpler than waiting to write the rest.
    if (n < 0) return fail(c, errno == EAGAIN ? EPIPE : errno, STAGE_SOCKET);
    at += n;
  }
  arm(c, PHASE_HEAD, req->headers_ms);
}

static int connect_next(Conn *c) {
  Request *req = c->req;
  while (c->address < req->address_count) {
    const struct sockaddr_storage *address = &req->addresses[c->address];
    if (c->fd >= 0) {
      epoll_ctl(E.epfd, EPOLL_CTL_DEL, c->fd, NULL);
      close(c->fd);
    }
    c->fd = socket(address->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return errno;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(E.epfd, EPOLL_CTL_ADD, c->fd, &ev);
    if (connect(c->fd, (const struct sockaddr *)address, req->address_lens[c->address]) == 0 || errno == EINPROGRESS) return 0;
    int error = errno;
    if (++c->address >= req->address_count) return error;
  }
  return ECONNREFUSED;
}

static void start(Request *req, int fresh) {
  for (Conn *c = fresh ? NULL : E.all; c; c = c->next) {
    if (c->req || c->phase != PHASE_IDLE || strcmp(c->origin, req->origin) != 0) continue;
    c->req = req;
    send_request(c);
    return;
  }
  Conn *c = calloc(1, sizeof *c);
  char *buf = malloc(READ_BYTES), *origin = strdup(req->origin);
  if (!c || !buf || !origin) {
    free(c);
    free(buf);
    free(origin);
    return finish(req, ENOMEM, STAGE_SOCKET);
  }
  c->fd = -1;
  c->file = -1;
  c->buf = buf;
  c->origin = origin;
  c->req = req;
  c->next = E.all;
  if (E.all) E.all->prev = c;
  E.all = c;
  arm(c, PHASE_CONNECT, req->connect_ms);
  int error = connect_next(c);
  if (error) fail(c, error, STAGE_CONNECT);
}

static void connected(Conn *c) {
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error) {
    // The next address (localhost as ::1, then 127.0.0.1), as Node's connect tries them.
    if (++c->address < c->req->address_count && (error = connect_next(c)) == 0) return;
    return fail(c, error, STAGE_CONNECT);
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(E.epfd, EPOLL_CTL_MOD, c->fd, &ev);
  send_request(c);
}

/** A header's value in head[0, len) (the first, trimmed), or NULL; `count` is how many there are. */
static const char *header(const char *head, size_t len, const char *name, size_t *value_len, int *count) {
  size_t n = strlen(name);
  const char *end = head + len, *found = NULL;
  *count = 0;
  for (const char *line = memchr(head, '\n', len); line && line + 1 < end; line = memchr(line + 1, '\n', end - line - 1)) {
    const char *s = line + 1;
    if ((size_t)(end - s) <= n || strncasecmp(s, name, n) != 0 || s[n] != ':') continue;
    if ((*count)++) continue;
    const char *v = s + n + 1;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    const char *e = memchr(v, '\r', end - v);
    if (!e) e = end;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *value_len = e - v;
    found = v;
  }
  return found;
}

/** A head read plainly: every line `name: value` or the status line, no folded lines, no bare LF. */
static int plain_head(const char *head, size_t len) {
  for (size_t i = 1; i + 1 < len; i++) {
    if (head[i] == '\n' && head[i - 1] != '\r') return 0;
    if (head[i] == '\n' && i + 2 < len && (head[i + 1] == ' ' || head[i + 1] == '\t')) return 0;
    if (head[i] == '\0') return 0;
  }
  return 1;
}

/**
 * The answer is not one this engine writes (another status, chunked, too big, a head it does not
 * read plainly): the connection goes to JavaScript as it is, socket and all, with the bytes
 * read from it so far, and JavaScript's connections take the answer from there. Nothing is
 * asked twice.
 */
static void hand_over(Conn *c) {
  Request *req = c->req;
  if (!keep(req, c->buf, c->have)) return fail(c, ENOMEM, STAGE_SOCKET);
  epoll_ctl(E.epfd, EPOLL_CTL_DEL, c->fd, NULL);
  int fd = c->fd;
  conn_forget(c);
  finish(req, HANDED, fd);
}

/**
 * The folders of the files last written, kept open: a file is created and renamed by its name in
 * its folder. Walking every folder of the absolute paths, three times a file, took 4% of the
 * engine's time in a run of small files (docs/architecture.md). Let go of at the end of every run
 * (close_idle), so that a run never writes through a folder that an earlier one checked: its own
 * folders may have been moved, or their paths pointed elsewhere, since. Only the engine's thread
 * uses them.
 */
#define FOLDERS 8
static struct {
  char *path; /* NULL: a free entry */
  size_t len;
  int fd;
} Folders[FOLDERS];
/** The entry the next folder opened takes, in turn. */
static int next_folder;

static void folder_forget(int i) {
  if (!Folders[i].path) return;
  close(Folders[i].fd);
  free(Folders[i].path);
  Folders[i].path = NULL;
}

static void folders_forget(void) {
  for (int i = 0; i < FOLDERS; i++) folder_forget(i);
}

/**
 * `path`'s folder as a descriptor (`*entry` its entry, or -1) and `*name` the file's name in it;
 * AT_FDCWD and the whole path when the folder cannot be opened.
 */
static int folder_of(const char *path, const char **name, int *entry) {
  const char *slash = strrchr(path, '/');
  *name = path;
  *entry = -1;
  if (!slash || slash == path) return AT_FDCWD;
  size_t len = (size_t)(slash - path);
  int i = 0;
  while (i < FOLDERS && !(Folders[i].path && Folders[i].len == len && memcmp(Folders[i].path, path, len) == 0)) i++;
  if (i == FOLDERS) {
    char *copy = strndup(path, len);
    int fd = copy ? open(copy, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd < 0) {
      free(copy);
      return AT_FDCWD;
    }
    i = next_folder;
    next_folder = (next_folder + 1) % FOLDERS;
    folder_forget(i);
    Folders[i].path = copy;
    Folders[i].len = len;
    Folders[i].fd = fd;
  }
  *name = slash + 1;
  *entry = i;
  return Folders[i].fd;
}

#define PART_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

/** Creates the file at `path` afresh (one left under its name is removed first); -1 with errno. */
static int create_part(const char *path) {
  for (int attempt = 0;; attempt++) {
    const char *name;
    int entry;
    int dir = folder_of(path, &name, &entry);
    int fd = openat(dir, name, PART_FLAGS, 0644);
    if (fd < 0 && errno == EEXIST && unlinkat(dir, name, 0) == 0) fd = openat(dir, name, PART_FLAGS, 0644);
    // A folder removed since it was opened (made again, perhaps): looked up by its path once more.
    if (fd >= 0 || errno != ENOENT || entry < 0 || attempt > 0) return fd;
    folder_forget(entry);
  }
}

/** Renames `part` to `final`, by their names when both are in the folder kept open. */
static int rename_part(const char *part, const char *final) {
  const char *to;
  int entry;
  int dir = folder_of(final, &to, &entry);
  size_t prefix = (size_t)(to - final);
  if (dir == AT_FDCWD || strncmp(part, final, prefix) != 0 || strchr(part + prefix, '/')) return rename(part, final);
  return renameat(dir, part + prefix, dir, to);
}

static void complete(Conn *c) {
  Request *req = c->req;
  int error = 0, stage = STAGE_CLOSE;
  if (close(c->file) < 0) error = errno;
  c->file = -1;
  if (!error && rename_part(req->part, req->final) < 0) {
    error = errno;
    stage = STAGE_RENAME;
  }
  // Nothing to resume from: the file is gone.
  if (error) unlink(req->part);
  c->req = NULL;
  c->have = 0;
  c->head = 0;
  c->served++;
  arm(c, PHASE_IDLE, IDLE_MS);
  if (!c->keep_alive) conn_close(c);
  finish(req, error ? error : DONE, error ? stage : 0);
}

/** Body bytes to the file; 0, or the errno of the write. */
static int body(Conn *c, const char *data, size_t n) {
  size_t take = (int64_t)n < c->left ? n : (size_t)c->left;
  // Bytes past the answer: the connection cannot be trusted with another request.
  if (take < n) c->keep_alive = 0;
  for (size_t at = 0; at < take;) {
    ssize_t w = write(c->file, data + at, take - at);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return EIO;
    at += w;
  }
  c->left -= take;
  c->req->bytes += take;
  if (c->req->slot >= 0) {
    double bytes = (double)c->req->bytes;
    __atomic_store(&E.progress[2 * c->req->slot], &bytes, __ATOMIC_RELAXED);
  }
  return 0;
}

/** A Connection header's value names `close` (any case: a token, as RFC 9110 has it). */
static int has_close(const char *value, size_t len) {
  for (size_t i = 0; i + 5 <= len; i++)
    if (strncasecmp(value + i, "close", 5) == 0) return 1;
  return 0;
}

/** The answer's head is in buf[0, head_len): a plain 200 goes on to its file, anything else is not simple. */
static void on_head(Conn *c, size_t head_len) {
  Request *req = c->req;
  const char *b = c->buf;
  if (head_len < 16 || memcmp(b, "HTTP/1.", 7) != 0 || (b[7] != '0' && b[7] != '1') || b[8] != ' ' || (b[12] != ' ' && b[12] != '\r'))
    return hand_over(c);
  int status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
  // A head over half the buffer would leave its body little room past it: JavaScript's to read.
  if (status != 200 || head_len > READ_BYTES / 2 || !plain_head(b, head_len)) return hand_over(c);
  size_t len;
  int count;
  const char *value = header(b, head_len, "content-length", &len, &count);
  if (!value || count != 1 || len == 0 || len > 15) return hand_over(c);
  int64_t length = 0;
  for (size_t i = 0; i < len; i++) {
    if (value[i] < '0' || value[i] > '9') return hand_over(c);
    length = length * 10 + (value[i] - '0');
  }
  header(b, head_len, "transfer-encoding", &len, &count);
  if (count || length > req->limit) return hand_over(c);
  value = header(b, head_len, "connection", &len, &count);
  c->keep_alive = b[7] == '1' && !(value && has_close(value, len));
  c->left = length;
  size_t read = c->have;
  c->head = head_len;
  if (req->slot >= 0) {
    // The bytes first, then the length with release: JavaScript reads a slot once its length is set.
    double total = (double)length;
    __atomic_store(&E.progress[2 * req->slot], &(double){0}, __ATOMIC_RELAXED);
    __atomic_store(&E.progress[2 * req->slot + 1], &total, __ATOMIC_RELEASE);
  }
  c->file = create_part(req->part);
  if (c->file < 0) return fail(c, errno, STAGE_OPEN);
  arm(c, PHASE_BODY, req->body_ms);
  int error = body(c, b + head_len, read - head_len);
  if (error) return fail(c, error, STAGE_WRITE);
  if (c->left == 0) complete(c);
}

static void readable(Conn *c) {
  for (;;) {
    // A head is gathered from the buffer's start; a body is read past its head (kept for a
    // failure); an idle connection's bytes go to the start.
    size_t at = !c->req ? 0 : c->phase == PHASE_BODY ? c->head : c->have;
    char *into = c->buf + at;
    size_t room = READ_BYTES - at;
    if (room == 0) return hand_over(c); // a head of 64 KiB: JavaScript's to refuse
    ssize_t n = recv(c->fd, into, room, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // Anything while idle (bytes nobody asked for, or the server closing): the connection goes.
    if (!c->req) return conn_close(c);
    if (n < 0) return fail(c, errno, STAGE_SOCKET);
    // Cut short: the detail is the length the body should have had (-1: the head had not come).
    int in_body = c->phase == PHASE_BODY;
    if (n == 0) return fail(c, CLOSED, in_body ? (int)(c->req->bytes + c->left) : -1);
    c->answered = 1;
    if (in_body) {
      arm(c, PHASE_BODY, c->req->body_ms);
      int error = body(c, into, n);
      if (error) return fail(c, error, STAGE_WRITE);
      if (c->left == 0) return complete(c);
      continue;
    }
    c->have += n;
    for (;;) {
      char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
      if (!end) break;
      size_t head_len = end + 4 - c->buf;
      // Informational answers (100 Continue, 103 Early Hints) come before the answer: skipped.
      if (c->have >= 13 && memcmp(c->buf, "HTTP/1.1 1", 10) == 0 && memcmp(c->buf, "HTTP/1.1 101", 12) != 0) {
        memmove(c->buf, c->buf + head_len, c->have - head_len);
        c->have -= head_len;
        arm(c, PHASE_HEAD, c->req->headers_ms);
        continue;
      }
      on_head(c, head_len);
      return; // the connection may be gone; the next read comes with the next event
    }
  }
}

static void expire(double now) {
  for (Conn *c = E.all, *next; c; c = next) {
    next = c->next;
    if (c->deadline == 0 || now < c->deadline) continue;
    if (c->phase == PHASE_IDLE) conn_close(c);
    else fail(c, TIMEOUT, c->phase == PHASE_CONNECT ? 1 : c->phase == PHASE_HEAD ? 2 : 3);
  }
}

/** How long epoll may wait: until the first deadline, or for ever. */
static int wait_ms(double now) {
  double first = 0;
  for (Conn *c = E.all; c; c = c->next)
    if (c->deadline && (first == 0 || c->deadline < first)) first = c->deadline;
  if (first == 0) return -1;
  double ms = first - now;
  return ms <= 0 ? 0 : (int)ms + 1;
}

static void take_work(void) {
  pthread_mutex_lock(&E.lock);
  Request *list = E.incoming, *cancels = E.cancels;
  int close_idle = E.close_idle;
  E.incoming = E.incoming_last = E.cancels = NULL;
  E.close_idle = 0;
  E.sleeping = 1;
  pthread_mutex_unlock(&E.lock);
  while (list) {
    Request *next = list->next;
    list->next = NULL;
    start(list, 0);
    list = next;
  }
  while (cancels) {
    Request *next = cancels->next;
    for (Conn *c = E.all; c; c = c->next)
      if (c->req && c->req->id == cancels->id) {
        fail(c, CANCELED, 0);
        break;
      }
    free(cancels);
    cancels = next;
  }
  if (close_idle) {
    for (Conn *c = E.all, *next; c; c = next) {
      next = c->next;
      if (!c->req) conn_close(c);
    }
    folders_forget();
  }
}

static void *engine(void *arg) {
  (void)arg;
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    take_work();
    if (__atomic_load_n(&E.stop, __ATOMIC_SEQ_CST)) break;
    double now = now_ms();
    int n = epoll_wait(E.epfd, events, MAX_EVENTS, wait_ms(now));
    pthread_mutex_lock(&E.lock);
    E.sleeping = 0;
    pthread_mutex_unlock(&E.lock);
    for (int i = 0; i < n; i++) {
      Conn *c = events[i].data.ptr;
      if (!c) {
        uint64_t count;
        if (read(E.wake, &count, sizeof count) < 0 && errno != EAGAIN) break;
        continue;
      }
      // A connection closed by an earlier event of this batch (a timeout, a cancel) is not here
      // any more: epoll drops it from later batches, and this batch only holds live ones because
      // nothing above closes another connection than the one the event is for.
      if (c->phase == PHASE_CONNECT) {
        if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) connected(c);
      } else {
        readable(c);
      }
    }
    expire(now_ms());
  }
  // The process is going: no JavaScript is left to say whether a `.part` is worth keeping.
  while (E.all) {
    if (E.all->req && E.all->file >= 0) {
      close_file(E.all);
      unlink(E.all->req->part);
    }
    conn_close(E.all);
  }
  return NULL;
}

/** Tells the engine there is work, if it may be waiting for it. */
static void wake_engine(void) {
  int sleeping = E.sleeping;
  E.sleeping = 0;
  pthread_mutex_unlock(&E.lock);
  uint64_t one = 1;
  if (sleeping && write(E.wake, &one, sizeof one) < 0) {
    // The counter is full only if it was never read: the engine is awake then anyway.
  }
}

static void call_one(napi_env env, napi_value callback, Request *req) {
  napi_value argv[5], undefined;
  napi_get_undefined(env, &undefined);
  napi_create_double(env, req->id, &argv[0]);
  napi_create_int32(env, req->result, &argv[1]);
  napi_create_int32(env, req->detail, &argv[2]);
  napi_create_int64(env, req->bytes, &argv[3]);
  argv[4] = undefined;
  if (req->kept) napi_create_buffer_copy(env, req->kept_len, req->kept, NULL, &argv[4]);
  free_request(req);
  napi_call_function(env, undefined, callback, 5, argv, NULL);
}

static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  (void)data;
  pthread_mutex_lock(&E.lock);
  Request *list = E.done;
  E.done = E.done_last = NULL;
  pthread_mutex_unlock(&E.lock);
  while (list) {
    Request *next = list->next;
    if (env) call_one(env, callback, list);
    else free_request(list);
    list = next;
  }
}

/** The process (or the worker that started it) is going: the engine's thread stops first. */
static void teardown(void *arg) {
  (void)arg;
  __atomic_store_n(&E.stop, 1, __ATOMIC_SEQ_CST);
  uint64_t one = 1;
  if (write(E.wake, &one, sizeof one) < 0) {
  }
  pthread_join(E.thread, NULL);
}

typedef napi_status (*StringGetter)(napi_env, napi_value, char *, size_t, size_t *);

/** A string argument, as UTF-8 (names, paths) or as Latin-1 (a request head, one byte a character, as dl's connections send it). */
static char *string_arg(napi_env env, napi_value value, size_t *length, StringGetter get) {
  size_t len;
  if (get(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s) get(env, value, s, len + 1, &len);
  if (length) *length = len;
  return s;
}

/** "a,b,c" into the request's addresses (IPv4 or IPv6, with the port); how many were read. */
static int parse_addresses(Request *req, const char *list, int port) {
  char copy[512];
  strncpy(copy, list, sizeof copy - 1);
  copy[sizeof copy - 1] = 0;
  char *save = NULL;
  for (char *one = strtok_r(copy, ",", &save); one && req->address_count < MAX_ADDRESSES; one = strtok_r(NULL, ",", &save)) {
    struct sockaddr_storage *address = &req->addresses[req->address_count];
    memset(address, 0, sizeof *address);
    struct sockaddr_in *v4 = (struct sockaddr_in *)address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
    if (inet_pton(AF_INET, one, &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      req->address_lens[req->address_count++] = sizeof *v4;
    } else if (inet_pton(AF_INET6, one, &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      req->address_lens[req->address_count++] = sizeof *v6;
    }
  }
  return req->address_count;
}

static napi_value js_fetch(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Request *req = calloc(1, sizeof *req);
  int32_t port = 0;
  char *addresses = NULL;
  int ok = req && argc == 12 && napi_get_value_double(env, argv[0], &req->id) == napi_ok;
  if (ok) {
    req->origin = string_arg(env, argv[1], NULL, napi_get_value_string_utf8);
    addresses = string_arg(env, argv[2], NULL, napi_get_value_string_utf8);
    req->head = string_arg(env, argv[4], &req->head_len, napi_get_value_string_latin1);
    req->part = string_arg(env, argv[5], NULL, napi_get_value_string_utf8);
    req->final = string_arg(env, argv[6], NULL, napi_get_value_string_utf8);
    ok = req->origin && addresses && req->head && req->part && req->final && napi_get_value_int32(env, argv[3], &port) == napi_ok &&
         napi_get_value_int64(env, argv[7], &req->limit) == napi_ok && napi_get_value_double(env, argv[8], &req->connect_ms) == napi_ok &&
         napi_get_value_double(env, argv[9], &req->headers_ms) == napi_ok && napi_get_value_double(env, argv[10], &req->body_ms) == napi_ok &&
         napi_get_value_int32(env, argv[11], &req->slot) == napi_ok && req->slot < (int)E.slots && parse_addresses(req, addresses, port) > 0;
  }
  free(addresses);
  if (!ok || !E.started) {
    if (req) free_request(req);
    napi_throw_type_error(env, NULL, "fetch(id, origin, addresses, port, head, part, final, limit, connectMs, headersMs, bodyMs, slot)");
    return NULL;
  }
  pthread_mutex_lock(&E.lock);
  if (E.incoming_last) E.incoming_last->next = req;
  else E.incoming = req;
  E.incoming_last = req;
  wake_engine();
  return NULL;
}

static napi_value js_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Request *cell = calloc(1, sizeof *cell);
  if (!cell || argc < 1 || napi_get_value_double(env, argv[0], &cell->id) != napi_ok || !E.started) {
    free(cell);
    return NULL;
  }
  pthread_mutex_lock(&E.lock);
  cell->next = E.cancels;
  E.cancels = cell;
  wake_engine();
  return NULL;
}

static napi_value js_close_idle(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  if (!E.started) return NULL;
  pthread_mutex_lock(&E.lock);
  E.close_idle = 1;
  wake_engine();
  return NULL;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  double *data = NULL;
  if (argc < 2 || !float64_array_arg(env, argv[1], 0, &data, &length)) {
    napi_throw_type_error(env, NULL, "start(callback, progress: Float64Array)");
    return NULL;
  }
  if (E.started) {
    napi_throw_error(env, NULL, "the native fetcher is already started (one per process)");
    return NULL;
  }
  napi_create_string_utf8(env, "dl native fetcher", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &E.callback) != napi_ok) {
    napi_throw_error(env, NULL, "cannot make the native fetcher's callback");
    return NULL;
  }
  napi_unref_threadsafe_function(env, E.callback);
  // Kept alive by JavaScript for the life of the process (native-fetcher.ts), never moved by V8.
  E.progress = data;
  E.slots = length / 2;
  E.epfd = epoll_create1(EPOLL_CLOEXEC);
  E.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (E.epfd < 0 || E.wake < 0 || epoll_ctl(E.epfd, EPOLL_CTL_ADD, E.wake, &ev) < 0 || pthread_create(&E.thread, NULL, engine, NULL) != 0) {
    napi_release_threadsafe_function(E.callback, napi_tsfn_abort);
    napi_throw_error(env, NULL, "cannot start the native fetcher");
    return NULL;
  }
  E.started = 1;
  napi_add_env_cleanup_hook(env, teardown, NULL);
  return NULL;
}

static napi_value js_ref(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !E.started || napi_get_value_bool(env, argv[0], &on) != napi_ok) return NULL;
  if (on) napi_ref_threadsafe_function(env, E.callback);
  else napi_unref_threadsafe_function(env, E.callback);
  return NULL;
}

static void export(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

NAPI_MODULE_INIT() {
  export(env, exports, "start", js_start);
  export(env, exports, "fetch", js_fetch);
  export(env, exports, "cancel", js_cancel);
  export(env, exports, "closeIdle", js_close_idle);
  export(env, exports, "ref", js_ref);
  return exports;
}
