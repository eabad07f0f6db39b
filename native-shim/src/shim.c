/*
 * native-shim: the engine's one native addon, plain C against Node-API.
 *
 * Why it exists: the flow table keeps its records and index in one large WebAssembly.Memory (or
 * ArrayBuffer) that the kernel maps lazily, 4 KiB at a time. Each first touch of a page is a page
 * fault, and on the machines the project runs on a fault costs ~10 us: touching 256 MiB of fresh
 * memory takes ~800 ms, which is most of the time of "1M new flows". Transparent huge pages would
 * fault the same memory in 2 MiB at a time, but where the kernel runs them in `madvise` mode
 * (/sys/kernel/mm/transparent_hugepage/enabled reads "always [madvise] never") a region gets them
 * only after madvise(MADV_HUGEPAGE), and Node has no way to call madvise. This addon does just that.
 *
 * Node-API (not nan, not V8's API) because it is ABI-stable across Node majors, and the module is
 * context-aware (NAPI_MODULE_INIT), so it also loads in worker threads. It holds no state.
 * The TAP calls of the live mode come later (native-shim/README.md).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <sys/mman.h>

#include <node_api.h>

/* The x86-64 and arm64 (4 KiB base page) PMD size: the unit of a transparent huge page. */
#define HUGE_PAGE ((uintptr_t)2 << 20)

/* Largest integer a JS number holds exactly (2^53 - 1). */
#define MAX_SAFE 9007199254740991.0

/* On a failed napi_* call: throw (unless an exception is already pending) and return NULL. */
#define CHECK(env, call)                                                  \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      bool pending = false;                                               \
      napi_is_exception_pending((env), &pending);                         \
      if (!pending) napi_throw_error((env), NULL, "native shim: " #call); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

static napi_value number(napi_env env, double v) {
  napi_value out;
  CHECK(env, napi_create_double(env, v, &out));
  return out;
}

/* A non-negative integer argument, or -1 when it is not one (not a number, fraction, too large). */
static double index_arg(napi_env env, napi_value v) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return -1;
  if (!(d >= 0 && d <= MAX_SAFE) || d != floor(d)) return -1;
  return d;
}

/*
 * adviseHugePages(buffer: ArrayBuffer, byteOffset: number, byteLength: number): number
 *
 * Rounds [byteOffset, byteOffset + byteLength) of the buffer's backing store inward to 2 MiB
 * boundaries and calls madvise(MADV_HUGEPAGE) on what is left. Returns the bytes advised: 0 when
 * the range holds no whole 2 MiB page, -errno when madvise fails, -EINVAL when the range is not
 * inside the buffer. Throws a TypeError only when `buffer` is not an ArrayBuffer. Only whole huge
 * pages inside the buffer are advised, so memory the buffer does not own is never touched. The
 * advice is a hint: the kernel still falls back to 4 KiB pages when it has no free 2 MiB page.
 */
static napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));

  bool is_ab = false;
  if (argc >= 1) CHECK(env, napi_is_arraybuffer(env, argv[0], &is_ab));
  if (!is_ab) {
    napi_throw_type_error(env, NULL, "adviseHugePages: the first argument must be an ArrayBuffer");
    return NULL;
  }
  void *data = NULL;
  size_t length = 0;
  CHECK(env, napi_get_arraybuffer_info(env, argv[0], &data, &length));

  double offset = argc >= 2 ? index_arg(env, argv[1]) : -1;
  double count = argc >= 3 ? index_arg(env, argv[2]) : -1;
  if (offset < 0 || count < 0 || offset + count > (double)length) return number(env, -EINVAL);
  if (count == 0 || data == NULL) return number(env, 0);

  uintptr_t start = (uintptr_t)data + (uintptr_t)offset;
  uintptr_t end = start + (uintptr_t)count;
  uintptr_t lo = (start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  uintptr_t hi = end & ~(HUGE_PAGE - 1);
  if (hi <= lo) return number(env, 0);

#ifdef MADV_HUGEPAGE
  if (madvise((void *)lo, hi - lo, MADV_HUGEPAGE) != 0) return number(env, -errno);
  return number(env, (double)(hi - lo));
#else
  return number(env, -ENOSYS);
#endif
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  CHECK(env, napi_create_function(env, "adviseHugePages", NAPI_AUTO_LENGTH, advise_huge_pages, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "adviseHugePages", fn));
  return exports;
}
