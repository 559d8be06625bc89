/* vosconv's compiled kernels: exact COCO RLE (converters/rle.py) and PNG row filters (converters/png.py).

Plain C against CPython's buffer protocol, so building needs no numpy headers. Each entry point
checks its arguments, releases the GIL for the work (loader threads decode in parallel), and
builds its Python results after taking the GIL back.

setup.py builds this file twice: converters.codecs._kernels, and converters.codecs._kernels_checked (from
_kernels_checked.c, which defines VOSCONV_BOUNDSCHECK) where every array index is checked and one
out of range raises IndexError instead of corrupting memory. converters/_native.py loads the
checked build when the environment variable VOSCONV_BOUNDSCHECK=1 is set, as `make test`'s second
run of the kernel tests does.

Every array the kernels index is a slice (pointer and length) read and written through AT(), or a
2-D map read and written through PIXEL(): in the checked build those macros check the index, in
the other they are plain indexing. Work arrays come from take(), which records them, so that
an escape (an index out of range, or malloc failing) frees them all on its way out. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER) && !defined(restrict)
#define restrict __restrict
#endif

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define HAVE_STREAM_STORES 1
#endif

#ifdef VOSCONV_BOUNDSCHECK
#define MODULE_NAME "_kernels_checked"
#define MODULE_INIT PyInit__kernels_checked
#else
#define MODULE_NAME "_kernels"
#define MODULE_INIT PyInit__kernels
#endif

/* Characters in the longest count string: 5 bits each, so 13 hold any int64. */
#define MAX_CHARS 13
/* Inputs smaller than this many bytes are handled without releasing the GIL: the release costs
   more than the work (one annotation's counts string in a COCO file). */
#define SMALL_WORK 4096

/* ------------------------------------------------------------------------------------ kernel state */

#define MAX_BLOCKS 32

enum { FAILED_NONE, FAILED_INDEX, FAILED_MEMORY };

typedef struct {
    jmp_buf escape;
    void *blocks[MAX_BLOCKS];
    int nblocks;
    int failed;
    int64_t bad_index, bad_length;
    int bad_line;
    int stream; /* write the output with non-temporal stores (see stream_copy) */
} Kernel;

static void escape(Kernel *k, int why) {
    k->failed = why;
    longjmp(k->escape, 1);
}

/* A work array of ``count`` items of ``size`` bytes (zeroed if asked), freed with the kernel's others. */
static void *take(Kernel *k, int64_t count, size_t size, int zeroed) {
    if (count < 0 || (uint64_t)count > SIZE_MAX / (size ? size : 1) / 2 || k->nblocks == MAX_BLOCKS)
        escape(k, FAILED_MEMORY);
    size_t bytes = (size_t)count * size;
    void *block = zeroed ? calloc(bytes ? bytes : 1, 1) : malloc(bytes ? bytes : 1);
    if (block == NULL)
        escape(k, FAILED_MEMORY);
    k->blocks[k->nblocks++] = block;
    return block;
}

/* Frees the work arrays taken since ``mark`` (a loop over frames frees each frame's). */
static void release_to(Kernel *k, int mark) {
    while (k->nblocks > mark)
        free(k->blocks[--k->nblocks]);
}

typedef struct { int64_t *p; int64_t n; } I64s;
typedef struct { int32_t *p; int64_t n; } I32s;
typedef struct { uint8_t *p; int64_t n; } U8s;
/* A 2-D uint8 array: pixel (r, c) at p[r * row_stride + c * col_stride]. */
typedef struct { uint8_t *p; int64_t height, width, row_stride, col_stride; } Map;

#ifdef VOSCONV_BOUNDSCHECK
static int64_t in_range(Kernel *k, int64_t i, int64_t n, int line) {
    if (i < 0 || i >= n) {
        k->bad_index = i;
        k->bad_length = n;
        k->bad_line = line;
        escape(k, FAILED_INDEX);
    }
    return i;
}
#define CHECK(i, n) ((void)in_range(k, (int64_t)(i), (int64_t)(n), __LINE__))
#define AT(a, i) ((a).p[in_range(k, (int64_t)(i), (a).n, __LINE__)])
#define PIXEL(m, r, c) ((m).p[in_range(k, (int64_t)(r), (m).height, __LINE__) * (m).row_stride + \
                              in_range(k, (int64_t)(c), (m).width, __LINE__) * (m).col_stride])
#else
#define CHECK(i, n) ((void)0)
#define AT(a, i) ((a).p[(i)])
#define PIXEL(m, r, c) ((m).p[(int64_t)(r) * (m).row_stride + (int64_t)(c) * (m).col_stride])
#endif

static I64s new_i64(Kernel *k, int64_t n, int zeroed) { I64s a = {take(k, n, sizeof(int64_t), zeroed), n}; return a; }
static I32s new_i32(Kernel *k, int64_t n, int zeroed) { I32s a = {take(k, n, sizeof(int32_t), zeroed), n}; return a; }
static U8s new_u8(Kernel *k, int64_t n, int zeroed) { U8s a = {take(k, n, 1, zeroed), n}; return a; }

/* ``a[begin:end]``, checked to lie within ``a`` in the checked build. */
static I64s sub_i64(Kernel *k, I64s a, int64_t begin, int64_t end) {
    CHECK(end - begin, a.n - begin + 1);
    if (begin < end) { CHECK(begin, a.n); CHECK(end - 1, a.n); }
    I64s s = {a.p + begin, end - begin};
    return s;
}
static U8s sub_u8(Kernel *k, U8s a, int64_t begin, int64_t end) {
    CHECK(end - begin, a.n - begin + 1);
    if (begin < end) { CHECK(begin, a.n); CHECK(end - 1, a.n); }
    U8s s = {a.p + begin, end - begin};
    return s;
}

static int little_endian(void) {
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
/* int64 arithmetic that wraps, as numpy's and the reference decoder's does (C leaves signed overflow undefined). */
static inline int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline int64_t wrap_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
/* ``x >> 5`` rounding toward minus infinity for negative x too (C leaves that to the compiler). */
static inline int64_t shift5(int64_t x) { return x < 0 ? ~(~x >> 5) : x >> 5; }

/* --------------------------------------------------------------------------------------- encode */

/* ``label[row, column : column + 8]`` as one uint64 (byte k = pixel column + k on little-endian
   machines), at any alignment: rows of a decoded PNG start one filter byte past a word boundary. */
static inline uint64_t load8(Kernel *k, Map label, int64_t row, int64_t column) {
    uint64_t word;
    CHECK(column + 7, label.width);
    memcpy(&word, &PIXEL(label, row, column), 8);
    return word;
}

/* Every (column, row) where a column changes value going down, in row order, in one pass.

   ``label`` may be any view whose rows are contiguous (a PNG's rows after their filter byte):
   8 pixels are compared at a time, the last ``width % 8`` one by one. Returns how many; -1 when
   the buffers are too small (the caller retries with room for all). */
static int64_t scan(Kernel *k, Map label, I32s cols, I32s rows) {
    const int64_t height = label.height, width = label.width;
    const int64_t capacity = min64(cols.n, rows.n);
    const int64_t whole = little_endian() ? width / 8 : 0; /* elsewhere the scan goes pixel by pixel */
    int64_t n = 0;
    for (int64_t r = 1; r < height; r++) {
        for (int64_t j = 0; j < whole; j++) {
            uint64_t d = load8(k, label, r, 8 * j) ^ load8(k, label, r - 1, 8 * j);
            if (d != 0) {
                if (n + 8 > capacity)
                    return -1;
                for (int b = 0; b < 8; b++) {
                    if ((d >> (8 * b)) & 0xFF) {
                        AT(cols, n) = (int32_t)(8 * j + b);
                        AT(rows, n) = (int32_t)r;
                        n++;
                    }
                }
            }
        }
        for (int64_t x = 8 * whole; x < width; x++) {
            if (PIXEL(label, r, x) != PIXEL(label, r - 1, x)) {
                if (n >= capacity)
                    return -1;
                AT(cols, n) = (int32_t)x;
                AT(rows, n) = (int32_t)r;
                n++;
            }
        }
    }
    return n;
}

/* A stable counting sort of the first ``n`` changes by column: rows of column x are
   ``ordered[start[x]:start[x+1]]``. ``rows`` NULL stands for 0, 1, ..., n - 1. */
static void by_column(Kernel *k, I32s cols, const I32s *rows, int64_t n, int64_t width, I64s *start_out, I32s *ordered_out) {
    I64s start = new_i64(k, width + 1, 1);
    for (int64_t i = 0; i < n; i++)
        AT(start, AT(cols, i) + 1) += 1;
    for (int64_t x = 0; x < width; x++)
        AT(start, x + 1) += AT(start, x);
    I64s fill = new_i64(k, width, 0);
    if (width > 0)
        memcpy(fill.p, start.p, (size_t)width * sizeof(int64_t));
    I32s ordered = new_i32(k, n, 0);
    for (int64_t i = 0; i < n; i++) {
        int64_t x = AT(cols, i);
        int64_t slot = AT(fill, x);
        AT(ordered, slot) = rows ? AT(*rows, i) : (int32_t)i;
        AT(fill, x) = slot + 1;
    }
    *start_out = start;
    *ordered_out = ordered;
}

/* Maximal runs of equal value in column-major order: start offsets and values; returns how many. */
static int64_t runs(Kernel *k, Map label, I64s per_column, I32s rows, I64s *starts_out, U8s *values_out) {
    const int64_t height = label.height, width = label.width;
    const int64_t capacity = rows.n + width + 1;
    I64s starts = new_i64(k, capacity, 0);
    U8s values = new_u8(k, capacity, 0);
    int64_t n = 0;
    int previous = -1;
    for (int64_t x = 0; x < width; x++) {
        int64_t base = x * height;
        uint8_t v = PIXEL(label, 0, x);
        if (v != previous) {
            AT(starts, n) = base;
            AT(values, n) = v;
            n++;
        }
        for (int64_t q = AT(per_column, x); q < AT(per_column, x + 1); q++) {
            int64_t r = AT(rows, q);
            AT(starts, n) = base + r;
            AT(values, n) = PIXEL(label, r, x);
            n++;
        }
        previous = AT(values, n - 1);
    }
    starts.n = n;
    values.n = n;
    *starts_out = starts;
    *values_out = values;
    return n;
}

/* Characters that any count or count difference of a mask of ``total`` pixels can take (5 bits each, signed). */
static int64_t chars_per_count(int64_t total) {
    int64_t bits = 1; /* the sign */
    while (total > 0) {
        bits++;
        total >>= 1;
    }
    return (bits + 4) / 5;
}

/* Appends one count to a compressed string, as rleToString does (signed LEB-like, 5 bits a char). */
static int64_t put_count(Kernel *k, U8s out, int64_t p, int64_t x) {
    int more = 1;
    while (more) {
        int64_t c = x & 0x1F;
        x = shift5(x);
        more = (c & 0x10) ? x != -1 : x != 0;
        if (more)
            c |= 0x20;
        AT(out, p) = (uint8_t)(c + 48);
        p++;
    }
    return p;
}

/* Widens ``box`` = [xs, ys, xe, ye] by the foreground run [start, stop), as rleToBbox does (a run that
   crosses a column boundary spans the full height). */
static void extend_box(int64_t box[4], int64_t start, int64_t stop, int64_t height) {
    int64_t x0 = start / height, x1 = (stop - 1) / height;
    box[0] = min64(box[0], x0);
    box[2] = max64(box[2], x1);
    if (x0 < x1) {
        box[1] = 0;
        box[3] = height - 1;
    } else {
        box[1] = min64(box[1], start % height);
        box[3] = max64(box[3], (stop - 1) % height);
    }
}

/* Every object's compressed counts string ``chars[offsets[i]:offsets[i+1]]``, value, area and bbox. */
typedef struct {
    int64_t count;
    I64s ids, offsets, areas, bboxes;
    U8s chars;
} Encoded;

/* Compressed counts, area and bbox of every non-zero value, from the column-major runs. */
static void encode_runs(Kernel *k, I64s starts, U8s values, int64_t height, int64_t width, Encoded *e) {
    const int64_t total = height * width, nruns = starts.n;
    I64s per_value = new_i64(k, 257, 1);
    for (int64_t i = 0; i < nruns; i++)
        AT(per_value, AT(values, i) + 1) += 1;
    I64s present = new_i64(k, 256, 0);
    int64_t npresent = 0;
    for (int v = 1; v < 256; v++)
        if (AT(per_value, v + 1) > 0)
            AT(present, npresent++) = v;
    for (int v = 0; v < 256; v++)
        AT(per_value, v + 1) += AT(per_value, v);
    I64s order = new_i64(k, nruns, 0);
    I64s fill = new_i64(k, 256, 0);
    memcpy(fill.p, per_value.p, 256 * sizeof(int64_t));
    for (int64_t i = 0; i < nruns; i++) {
        uint8_t v = AT(values, i);
        int64_t slot = AT(fill, v);
        AT(order, slot) = i;
        AT(fill, v) = slot + 1;
    }

    present.n = npresent;
    I64s areas = new_i64(k, npresent, 1), bboxes = new_i64(k, 4 * npresent, 1), offsets = new_i64(k, npresent + 1, 1);
    /* every object has at most 2 counts per run plus one, each at most chars_per_count(total) characters */
    U8s chars = new_u8(k, chars_per_count(total) * (2 * (nruns - AT(per_value, 1)) + npresent) + 1, 0);
    I64s counts = new_i64(k, 2 * nruns + 1, 0);
    int64_t p = 0;
    for (int64_t o = 0; o < npresent; o++) {
        int64_t v = AT(present, o);
        int64_t m = 0, end = 0, area = 0;
        int64_t box[4] = {width, height, 0, 0};
        for (int64_t q = AT(per_value, v); q < AT(per_value, v + 1); q++) {
            int64_t i = AT(order, q);
            int64_t start = AT(starts, i);
            int64_t stop = i + 1 < nruns ? AT(starts, i + 1) : total;
            AT(counts, m) = start - end;
            AT(counts, m + 1) = stop - start;
            m += 2;
            end = stop;
            area += stop - start;
            extend_box(box, start, stop, height);
        }
        if (end < total)
            AT(counts, m++) = total - end;
        for (int64_t j = 0; j < m; j++)
            p = put_count(k, chars, p, j > 2 ? AT(counts, j) - AT(counts, j - 2) : AT(counts, j));
        AT(offsets, o + 1) = p;
        AT(areas, o) = area;
        AT(bboxes, 4 * o) = box[0];
        AT(bboxes, 4 * o + 1) = box[1];
        AT(bboxes, 4 * o + 2) = box[2] - box[0] + 1;
        AT(bboxes, 4 * o + 3) = box[3] - box[1] + 1;
    }
    chars.n = p;
    e->count = npresent;
    e->ids = present;
    e->chars = chars;
    e->offsets = offsets;
    e->areas = areas;
    e->bboxes = bboxes;
}

/* ---------------------------------------------------------------------------------------- decode */

/* rleFrString: the compressed string ``chars[begin:end]`` to counts; returns how many, or -1 when truncated
   or a count has more digits than an int64 holds. Sums wrap as int64, as the reference decoder's do. */
static int64_t parse(Kernel *k, U8s chars, int64_t begin, int64_t end, I64s counts) {
    int64_t m = 0, p = begin;
    while (p < end) {
        uint64_t x = 0;
        int digits = 0, more = 1;
        while (more) {
            if (p >= end || digits == MAX_CHARS)
                return -1;
            int64_t c = (int64_t)AT(chars, p) - 48;
            x |= (uint64_t)(c & 0x1F) << (5 * digits);
            more = (c & 0x20) != 0;
            p++;
            digits++;
            if (!more && (c & 0x10) && digits < MAX_CHARS) /* 13 digits already fill all 64 bits */
                x |= UINT64_MAX << (5 * digits);
        }
        int64_t count = (int64_t)x;
        if (m > 2)
            count = wrap_add(count, AT(counts, m - 2));
        AT(counts, m) = count;
        m++;
    }
    return m;
}

/* Every mask's foreground runs cut at column ends, in mask order: segment i covers rows
   ``[top[i], bottom[i])`` of column ``x[i]``. */
typedef struct {
    int64_t n;
    I32s x, top, bottom;
    U8s value;
} Segments;

/* Fills ``s``; returns the index of the first string that does not describe exactly
   ``height * width`` pixels, else -1. */
static int64_t segments(Kernel *k, U8s chars, I64s offsets, U8s values, int64_t height, int64_t width, Segments *s) {
    const int64_t total = height * width, nmasks = values.n;
    /* Sized by these masks' own characters, not the whole buffer's: a clip's frames share one buffer,
       and work arrays as large as all of it, taken once per frame, cost more than the decode. */
    const int64_t span = nmasks > 0 ? AT(offsets, nmasks) - AT(offsets, 0) : 0;
    I64s counts = new_i64(k, span + 1, 0);
    const int64_t capacity = span + nmasks * width; /* a mask's runs cross at most width - 1 column ends */
    s->x = new_i32(k, capacity, 0);
    s->top = new_i32(k, capacity, 0);
    s->bottom = new_i32(k, capacity, 0);
    s->value = new_u8(k, capacity, 0);
    int64_t n = 0;
    s->n = 0;
    for (int64_t o = 0; o < nmasks; o++) {
        int64_t m = parse(k, chars, AT(offsets, o), AT(offsets, o + 1), counts);
        if (m < 0)
            return o;
        int64_t pos = 0;
        for (int64_t j = 0; j < m; j++) {
            int64_t c = AT(counts, j);
            if (c < 0 || c > total - pos) /* not ``pos + c > total``: a crafted count would overflow it */
                return o;
            if (j % 2 == 1) {
                int64_t start = pos, stop = pos + c;
                while (start < stop) {
                    int64_t x = start / height;
                    int64_t y = start - x * height;
                    int64_t bottom = min64(height, y + (stop - start));
                    AT(s->x, n) = (int32_t)x;
                    AT(s->top, n) = (int32_t)y;
                    AT(s->bottom, n) = (int32_t)bottom;
                    AT(s->value, n) = AT(values, o);
                    n++;
                    s->n = n;
                    start += bottom - y;
                }
            }
            pos += c;
        }
        if (pos != total)
            return o;
    }
    return -1;
}

/* Whether two segments share a pixel: each column's segments sorted by top, then compared in turn. */
static int overlap(Kernel *k, const Segments *s, int64_t width) {
    I64s start;
    I32s order;
    I32s columns = s->x;
    columns.n = s->n;
    by_column(k, columns, NULL, s->n, width, &start, &order);
    for (int64_t x = 0; x < width; x++) {
        for (int64_t a = AT(start, x) + 1; a < AT(start, x + 1); a++) { /* insertion sort: a column holds few segments */
            int32_t i = AT(order, a);
            int64_t b = a;
            while (b > AT(start, x) && AT(s->top, AT(order, b - 1)) > AT(s->top, i)) {
                AT(order, b) = AT(order, b - 1);
                b--;
            }
            AT(order, b) = i;
        }
        for (int64_t a = AT(start, x) + 1; a < AT(start, x + 1); a++)
            if (AT(s->top, AT(order, a)) < AT(s->bottom, AT(order, a - 1)))
                return 1;
    }
    return 0;
}

/* Output bytes written with non-temporal stores where the CPU has them, when the whole output is
   larger than a cache (``k->stream``: 80 MB of masks for a 1080p clip): written once and read later
   by someone else, each line pulled into the cache before it is written (what plain stores do)
   only doubles the memory traffic. A smaller output is better left in the cache for its reader.
   run() fences after the job. */
#define STREAM_MIN 256
#define STREAM_OUTPUT ((int64_t)32 << 20)

static void stream_copy(Kernel *k, uint8_t *dst, const uint8_t *src, size_t n) {
#ifdef HAVE_STREAM_STORES
    if (k->stream && n >= STREAM_MIN) {
        size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
        memcpy(dst, src, head);
        dst += head, src += head, n -= head;
        for (; n >= 16; n -= 16, dst += 16, src += 16)
            _mm_stream_si128((__m128i *)dst, _mm_loadu_si128((const __m128i *)src));
    }
#endif
    memcpy(dst, src, n);
}

static void stream_zero(Kernel *k, uint8_t *dst, size_t n) {
#ifdef HAVE_STREAM_STORES
    if (k->stream && n >= STREAM_MIN) {
        size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
        memset(dst, 0, head);
        dst += head, n -= head;
        const __m128i zeros = _mm_setzero_si128();
        for (; n >= 16; n -= 16, dst += 16)
            _mm_stream_si128((__m128i *)dst, zeros);
    }
#endif
    memset(dst, 0, n);
}

/* Rows ``[begin, end)`` of ``out`` set to 0: one memset where the rows are contiguous. */
static void zero_rows(Kernel *k, Map out, int64_t begin, int64_t end) {
    if (begin >= end || out.width == 0)
        return;
    if (out.col_stride == 1 && out.row_stride == out.width) {
        CHECK(begin, out.height);
        CHECK(end - 1, out.height);
        stream_zero(k, &PIXEL(out, begin, 0), (size_t)((end - begin) * out.width));
        return;
    }
    for (int64_t y = begin; y < end; y++) {
        if (out.col_stride == 1) {
            CHECK(out.width - 1, out.width);
            stream_zero(k, &PIXEL(out, y, 0), (size_t)out.width);
        } else {
            for (int64_t x = 0; x < out.width; x++)
                PIXEL(out, y, x) = 0;
        }
    }
}

/* Every pixel of ``out`` set to 0. */
static void zero(Kernel *k, Map out) { zero_rows(k, out, 0, out.height); }

/* Row ``y`` of ``out`` set to ``row``. */
static void put_row(Kernel *k, Map out, int64_t y, U8s row) {
    if (out.width == 0)
        return;
    if (out.col_stride == 1) {
        CHECK(row.n - 1, out.width); /* row holds at least out.width pixels */
        CHECK(out.width - 1, row.n);
        stream_copy(k, &PIXEL(out, y, 0), row.p, (size_t)out.width);
    } else {
        for (int64_t x = 0; x < out.width; x++)
            PIXEL(out, y, x) = AT(row, x);
    }
}

/* The whole label map from segments that do not overlap, written row by row.

   Painting runs column by column writes one pixel per row-length stride, which misses the
   cache at every pixel. Here the segments become the rows where each column's value starts
   and stops; the map is then built top-down, each row a copy of the one above with that
   row's few changes applied: contiguous writes, and work that follows the number of runs. */
static void fill(Kernel *k, Map out, const Segments *s) {
    const int64_t height = out.height, width = out.width, n = s->n;
    I64s per_row = new_i64(k, height + 2, 1);
    for (int64_t i = 0; i < n; i++) {
        AT(per_row, AT(s->top, i) + 1) += 1;
        if (AT(s->bottom, i) < height)
            AT(per_row, AT(s->bottom, i) + 1) += 1;
    }
    for (int64_t y = 0; y < height + 1; y++)
        AT(per_row, y + 1) += AT(per_row, y);
    I64s slot = new_i64(k, height + 1, 0);
    memcpy(slot.p, per_row.p, (size_t)(height + 1) * sizeof(int64_t));
    const int64_t nchanges = AT(per_row, height);
    I32s change_x = new_i32(k, nchanges, 0);
    U8s change_value = new_u8(k, nchanges, 0);
    for (int64_t i = 0; i < n; i++) { /* stops first within a row, so a segment starting where another stops wins */
        int64_t y = AT(s->bottom, i);
        if (y < height) {
            int64_t q = AT(slot, y);
            AT(change_x, q) = AT(s->x, i);
            AT(change_value, q) = 0;
            AT(slot, y) = q + 1;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t y = AT(s->top, i);
        int64_t q = AT(slot, y);
        AT(change_x, q) = AT(s->x, i);
        AT(change_value, q) = AT(s->value, i);
        AT(slot, y) = q + 1;
    }
    /* Rows above the first segment and below the last one are background: cleared as blocks. */
    int64_t first = height, last = 0;
    for (int64_t i = 0; i < n; i++) {
        first = min64(first, AT(s->top, i));
        last = max64(last, AT(s->bottom, i));
    }
    if (first >= last)
        first = last = 0;
    zero_rows(k, out, 0, first);
    U8s row = new_u8(k, width, 1);
    for (int64_t y = first; y < last; y++) {
        for (int64_t q = AT(per_row, y); q < AT(per_row, y + 1); q++)
            AT(row, AT(change_x, q)) = AT(change_value, q);
        put_row(k, out, y, row);
    }
    zero_rows(k, out, last, height);
}


/* Segments painted in order onto a cleared map, later over earlier: for masks that overlap. */
static void paint(Kernel *k, Map out, const Segments *s) {
    zero(k, out);
    for (int64_t i = 0; i < s->n; i++) {
        int64_t x = AT(s->x, i);
        uint8_t value = AT(s->value, i);
        for (int64_t y = AT(s->top, i); y < AT(s->bottom, i); y++)
            PIXEL(out, y, x) = value;
    }
}

/* Whether the map ``s`` paints has a non-zero pixel. From the segments' values when no value-0 segment
   could paint over another (no overlap, or none of value 0); else by reading the painted map. */
static uint8_t any_foreground(Kernel *k, const Segments *s, int painted, Map out) {
    int zeros = 0, others = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (AT(s->value, i) == 0)
            zeros = 1;
        else
            others = 1;
    }
    if (!others || !painted || !zeros)
        return (uint8_t)others;
    for (int64_t y = 0; y < out.height; y++)
        for (int64_t x = 0; x < out.width; x++)
            if (PIXEL(out, y, x) != 0)
                return 1;
    return 0;
}

/* All of ``out`` from the masks (filled row by row, or painted where they overlap); the first bad
   index or -1; -2, with ``out`` untouched, when they overlap and ``refuse_overlap``. ``*foreground``:
   whether any mask has a pixel of a non-zero value. */
static int64_t label_map(Kernel *k, Map out, U8s chars, I64s offsets, U8s values, int refuse_overlap, uint8_t *foreground) {
    const int mark = k->nblocks;
    Segments s;
    int64_t result = segments(k, chars, offsets, values, out.height, out.width, &s);
    *foreground = 0;
    if (result < 0) {
        if (values.n > 1 && overlap(k, &s, out.width)) { /* one mask's runs never overlap each other */
            if (refuse_overlap) {
                result = -2;
            } else {
                paint(k, out, &s);
                *foreground = any_foreground(k, &s, 1, out);
            }
        } else {
            fill(k, out, &s);
            *foreground = any_foreground(k, &s, 0, out);
        }
    }
    release_to(k, mark);
    return result;
}

/* --------------------------------------------------------------------------------- string codec */

/* rleToString of ``counts``: each count stored as its difference from the one two before. */
static U8s to_string(Kernel *k, I64s counts) {
    U8s chars = new_u8(k, MAX_CHARS * counts.n + 1, 0);
    int64_t p = 0;
    for (int64_t j = 0; j < counts.n; j++)
        p = put_count(k, chars, p, j > 2 ? wrap_sub(AT(counts, j), AT(counts, j - 2)) : AT(counts, j));
    chars.n = p;
    return chars;
}

typedef struct {
    int64_t area, x, y, w, h;
    int canonical;
} Measured;

/* Area and bbox of one compressed string, as rleArea and rleToBbox compute them, and whether the
   string is the one pycocotools writes (no zero-length run after the first, no redundant digits);
   area -1 if invalid. */
static void measure(Kernel *k, U8s chars, int64_t height, int64_t width, Measured *out) {
    memset(out, 0, sizeof(*out));
    out->area = -1;
    if (height < 0 || width < 0 || (width > 0 && height > INT64_MAX / width))
        return; /* no string describes such a mask */
    const int64_t pixels = height * width;
    I64s counts = new_i64(k, chars.n + 1, 0);
    const int64_t m = parse(k, chars, 0, chars.n, counts);
    int64_t total = 0;
    int canonical = 1;
    for (int64_t j = 0; j < m; j++) {
        int64_t c = AT(counts, j);
        if (c < 0 || c > pixels - total)
            return;
        total += c;
        canonical = canonical && (j == 0 || c > 0);
    }
    if (m < 0 || total != pixels)
        return;
    counts.n = m;
    if (canonical) { /* no redundant digit or character outside rleToString's alphabet: its own spelling */
        U8s spelled = to_string(k, counts);
        canonical = spelled.n == chars.n && (chars.n == 0 || memcmp(spelled.p, chars.p, (size_t)chars.n) == 0);
    }
    int64_t area = 0, pos = 0;
    int64_t box[4] = {width, height, 0, 0};
    for (int64_t j = 0; j < m - m % 2; j++) {
        int64_t start = pos;
        pos += AT(counts, j);
        if (j % 2 == 0 || AT(counts, j) == 0)
            continue;
        area += AT(counts, j);
        extend_box(box, start, pos, height);
    }
    out->canonical = canonical;
    out->area = area;
    if (area > 0) {
        out->x = box[0];
        out->y = box[1];
        out->w = box[2] - box[0] + 1;
        out->h = box[3] - box[1] + 1;
    }
}

/* The string pycocotools would write for the mask ``chars`` describes: zero-length runs are
   dropped and the runs either side of one (the same value) joined; n = -1 when invalid. */
static U8s canonical(Kernel *k, U8s chars) {
    U8s invalid = {NULL, -1};
    I64s counts = new_i64(k, chars.n + 1, 0);
    const int64_t m = parse(k, chars, 0, chars.n, counts);
    if (m < 0)
        return invalid;
    int64_t kept = 0; /* counts[:kept] is the canonical run list so far: even positions background, odd foreground */
    for (int64_t j = 0; j < m; j++) {
        int64_t x = AT(counts, j);
        if (x < 0)
            return invalid;
        if (x == 0)
            continue;
        if (kept % 2 != j % 2) { /* the last kept run has this one's value: they join */
            if (kept == 0) {     /* the mask starts with foreground: a zero-length background first */
                AT(counts, 0) = 0;
                kept = 1;
            } else {
                AT(counts, kept - 1) = wrap_add(AT(counts, kept - 1), x);
                continue;
            }
        }
        AT(counts, kept) = x;
        kept++;
    }
    counts.n = kept;
    return to_string(k, counts);
}

/* ------------------------------------------------------------------------------------------- png */

/* The wide vector unit where the CPU has one (AVX2), chosen when the library loads: the Up filter's
   row sum is bound by how many bytes one instruction adds. Needs GCC or clang on glibc (ifunc). */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__GLIBC__) && !defined(VOSCONV_BOUNDSCHECK)
#define WIDE_VECTORS __attribute__((target_clones("avx2", "default")))
#else
#define WIDE_VECTORS
#endif

/* The Up filter: ``to[i] += from[i]`` over two rows that do not overlap (the compiler vectorises it). */
WIDE_VECTORS static void add_row(uint8_t *restrict to, const uint8_t *restrict from, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        to[i] = (uint8_t)(to[i] + from[i]);
}

/* Byte-wise ``a + b`` modulo 256 of 8 bytes at once (no carry crosses into the next byte). */
static inline uint64_t add_bytes(uint64_t a, uint64_t b) {
    const uint64_t high = 0x8080808080808080ull;
    return ((a & ~high) + (b & ~high)) ^ ((a ^ b) & high);
}

/* The Sub filter: each byte plus the one to its left, a running sum along the row. On little-endian
   machines 8 bytes at a time: their prefix sums in three shifted byte-wise adds, then the byte carried
   in from the left added to all 8; 8 zero bytes (a flat stretch of a mask) repeat the left byte. */
static void undo_sub(Kernel *k, U8s row) {
    uint8_t left = 0;
    int64_t i = 0;
    if (little_endian()) {
        for (; i + 8 <= row.n; i += 8) {
            uint64_t word;
            CHECK(i + 7, row.n);
            memcpy(&word, &AT(row, i), 8);
            if (word != 0) {
                word = add_bytes(word, word << 8);
                word = add_bytes(word, word << 16);
                word = add_bytes(word, word << 32);
                word = add_bytes(word, left * 0x0101010101010101ull);
            } else {
                word = left * 0x0101010101010101ull;
            }
            memcpy(&AT(row, i), &word, 8);
            left = (uint8_t)(word >> 56);
        }
    }
    for (; i < row.n; i++) {
        uint8_t x = AT(row, i);
        if (x != 0) /* a flat stretch (x = 0) repeats the left byte: no add to wait for */
            left = (uint8_t)(x + left);
        AT(row, i) = left;
    }
}

/* Undoes PNG row filters in place for one byte per pixel (also right for packed 1/2/4-bit rows).

   Returns -1, or the first row whose filter type is unknown. The byte to the left travels in a
   register rather than being read back from the row just written: Sub, Average and Paeth
   each chain every byte to the one before it, and a store-to-load round trip per byte cost
   several times the arithmetic. Paeth's predictor is exactly the byte above wherever the
   left byte equals its upper-left neighbour and the filtered byte is 0 (a flat stretch of a
   mask): that case skips the three-way comparison. */
static int64_t unfilter(Kernel *k, U8s raw, int64_t height, int64_t stride) {
    const int64_t row = stride + 1;
    for (int64_t r = 0; r < height; r++) {
        const uint8_t kind = AT(raw, r * row);
        const int64_t base = r * row + 1, prev = base - row;
        if (kind == 0)
            continue;
        if (kind == 1 || (kind == 4 && r == 0)) { /* Paeth with no row above is Sub */
            undo_sub(k, sub_u8(k, raw, base, base + stride));
        } else if (kind == 2) {
            if (r > 0 && stride > 0)
                add_row(sub_u8(k, raw, base, base + stride).p, sub_u8(k, raw, prev, prev + stride).p, stride);
        } else if (kind == 3) {
            int32_t left = 0;
            for (int64_t i = 0; i < stride; i++) {
                int32_t up = r > 0 ? AT(raw, prev + i) : 0;
                int32_t x = AT(raw, base + i);
                if (x == 0 && left == up) /* a flat stretch: the byte above, with no arithmetic on ``left`` to wait for */
                    left = up;
                else
                    left = (x + ((left + up) >> 1)) & 0xFF;
                AT(raw, base + i) = (uint8_t)left;
            }
        } else if (kind == 4) {
            int32_t a = 0; /* left */
            int32_t c = 0; /* upper left */
            for (int64_t i = 0; i < stride; i++) {
                int32_t b = AT(raw, prev + i);
                int32_t x = AT(raw, base + i);
                if (x == 0 && a == c) {
                    a = b; /* p = b, so pb = 0 and the predictor is b (or a, equal to b, when pa = 0) */
                } else {
                    int32_t pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - c - c), pred;
                    if (pa <= pb && pa <= pc)
                        pred = a;
                    else if (pb <= pc)
                        pred = b;
                    else
                        pred = c;
                    a = (x + pred) & 0xFF;
                }
                AT(raw, base + i) = (uint8_t)a;
                c = b;
            }
        } else {
            return r;
        }
    }
    return -1;
}

/* ================================================================================ Python entry points */

typedef void (*Job)(Kernel *k, void *args);

/* Runs ``job`` (without the GIL when ``release_gil``); on an escape frees the work arrays, sets the
   Python error and returns -1. On success the caller reads the results, then calls release_to(k, 0). */
static int run(Kernel *k, Job job, void *args, int release_gil) {
    k->nblocks = 0;
    k->failed = FAILED_NONE;
    k->stream = 0;
    PyThreadState *save = release_gil ? PyEval_SaveThread() : NULL;
    int escaped = 0;
    if (setjmp(k->escape) == 0)
        job(k, args);
    else
        escaped = 1;
#ifdef HAVE_STREAM_STORES
    _mm_sfence(); /* the non-temporal stores are seen before anything after the call */
#endif
    if (save != NULL)
        PyEval_RestoreThread(save);
    if (!escaped)
        return 0;
    release_to(k, 0);
    if (k->failed == FAILED_INDEX)
        PyErr_Format(PyExc_IndexError, "index %lld is out of range for length %lld (converters/codecs/_kernels.c line %d)",
                     (long long)k->bad_index, (long long)k->bad_length, k->bad_line);
    else
        PyErr_NoMemory();
    return -1;
}

/* run(), then ``*value`` (a field of ``args`` the job sets) as a Python int; NULL with the error set on an escape. */
static PyObject *run_to_int(Job job, void *args, int release_gil, const int64_t *value) {
    Kernel k;
    if (run(&k, job, args, release_gil) != 0)
        return NULL;
    release_to(&k, 0);
    return PyLong_FromLongLong(*value);
}

/* A contiguous buffer of items of ``itemsize`` bytes. */
static int get_items(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t itemsize, const char *name) {
    if (PyObject_GetBuffer(obj, view, (writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != itemsize || view->len % itemsize != 0) {
        PyErr_Format(PyExc_TypeError, "%s must hold items of %zd bytes, got %zd", name, itemsize, view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* A 2-D (or, with ``frames``, 2-D or 3-D) uint8 array as a Map of its first frame, any strides. */
static int get_map(PyObject *obj, Py_buffer *view, int writable, Map *map, int64_t *frames, int64_t *frame_stride) {
    if (PyObject_GetBuffer(obj, view, writable ? PyBUF_RECORDS : PyBUF_RECORDS_RO) < 0)
        return -1;
    const int ndim = view->ndim;
    if (view->itemsize != 1 || !(ndim == 2 || (frames != NULL && ndim == 3))) {
        PyErr_Format(PyExc_TypeError, "expected a %s uint8 array, got %d dimensions of %zd bytes",
                     frames ? "2-D or 3-D" : "2-D", ndim, view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    const int first = ndim - 2;
    map->p = view->buf;
    map->height = view->shape[first];
    map->width = view->shape[first + 1];
    map->row_stride = view->strides[first];
    map->col_stride = view->strides[first + 1];
    if (frames != NULL) {
        *frames = ndim == 3 ? view->shape[0] : 1;
        *frame_stride = ndim == 3 ? view->strides[0] : 0;
    }
    return 0;
}

static I64s as_i64(Py_buffer *view) { I64s a = {view->buf, view->len / 8}; return a; }
static I32s as_i32(Py_buffer *view) { I32s a = {view->buf, view->len / 4}; return a; }
static U8s as_u8(Py_buffer *view) { U8s a = {view->buf, view->len}; return a; }

static PyObject *ascii_str(U8s chars) {
    PyObject *text = PyUnicode_New(chars.n, 127);
    if (text != NULL && chars.n > 0)
        memcpy(PyUnicode_1BYTE_DATA(text), chars.p, (size_t)chars.n);
    return text;
}

/* ---------------------------------------------------------------------------------- encode(label, cols, rows) */

typedef struct {
    Map label;
    I32s cols, rows;
    int ok;
    Encoded encoded;
} EncodeJob;

static void encode_job(Kernel *k, void *args) {
    EncodeJob *job = args;
    const int64_t n = scan(k, job->label, job->cols, job->rows);
    job->ok = n >= 0;
    if (n < 0)
        return;
    I32s cols = {job->cols.p, n}, rows = {job->rows.p, n};
    I64s per_column, starts;
    I32s ordered;
    U8s values;
    by_column(k, cols, &rows, n, job->label.width, &per_column, &ordered);
    runs(k, job->label, per_column, ordered, &starts, &values);
    encode_runs(k, starts, values, job->label.height, job->label.width, &job->encoded);
}

static PyObject *encoded_masks(const Encoded *e) {
    PyObject *masks = PyList_New(e->count);
    for (int64_t o = 0; masks != NULL && o < e->count; o++) {
        U8s counts = {e->chars.p + e->offsets.p[o], e->offsets.p[o + 1] - e->offsets.p[o]};
        const int64_t *b = e->bboxes.p + 4 * o;
        PyObject *text = ascii_str(counts);
        PyObject *mask = text ? Py_BuildValue("(LNL(LLLL))", (long long)e->ids.p[o], text, (long long)e->areas.p[o],
                                              (long long)b[0], (long long)b[1], (long long)b[2], (long long)b[3])
                              : NULL;
        if (mask == NULL)
            Py_CLEAR(masks);
        else
            PyList_SET_ITEM(masks, o, mask);
    }
    return masks;
}

PyDoc_STRVAR(encode_doc,
             "encode(label, cols, rows) -> [(value, counts, area, (x, y, w, h)), ...] or None\n\n"
             "Every non-zero value of a 2-D uint8 map whose rows are contiguous, sorted by value. cols and rows\n"
             "are int32 work buffers; None when they cannot hold every change (retry with room for all).");

/* Rows and columns are int32 in scan() and Segments: a side over 2**31 - 1 would wrap them negative. */
static int too_large(int64_t height, int64_t width) {
    if (height <= INT32_MAX && width <= INT32_MAX)
        return 0;
    PyErr_Format(PyExc_ValueError, "a mask of %lld x %lld pixels: a side over 2**31 - 1 is not taken", (long long)height,
                 (long long)width);
    return -1;
}

static PyObject *py_encode(PyObject *self, PyObject *args) {
    PyObject *label_obj, *cols_obj, *rows_obj;
    if (!PyArg_ParseTuple(args, "OOO:encode", &label_obj, &cols_obj, &rows_obj))
        return NULL;
    Py_buffer label, cols, rows;
    EncodeJob job;
    memset(&job, 0, sizeof(job));
    if (get_map(label_obj, &label, 0, &job.label, NULL, NULL) < 0)
        return NULL;
    if (job.label.col_stride != 1 && job.label.width > 1) {
        PyBuffer_Release(&label);
        return PyErr_Format(PyExc_ValueError, "the label map's rows must be contiguous");
    }
    if (too_large(job.label.height, job.label.width) < 0) {
        PyBuffer_Release(&label);
        return NULL;
    }
    job.label.col_stride = 1;
    if (get_items(cols_obj, &cols, 1, 4, "cols") < 0) {
        PyBuffer_Release(&label);
        return NULL;
    }
    if (get_items(rows_obj, &rows, 1, 4, "rows") < 0) {
        PyBuffer_Release(&label);
        PyBuffer_Release(&cols);
        return NULL;
    }
    job.cols = as_i32(&cols);
    job.rows = as_i32(&rows);
    PyObject *result = NULL;
    Kernel k;
    if (job.label.height == 0 || job.label.width == 0) {
        result = PyList_New(0);
    } else if (run(&k, encode_job, &job, job.label.height * job.label.width > SMALL_WORK) == 0) {
        if (job.ok) {
            result = encoded_masks(&job.encoded);
        } else {
            result = Py_None;
            Py_INCREF(result);
        }
        release_to(&k, 0);
    }
    PyBuffer_Release(&label);
    PyBuffer_Release(&cols);
    PyBuffer_Release(&rows);
    return result;
}

/* ----------------------------------------- decode(out, chars, offsets, values, frame_starts, refuse_overlap) */

typedef struct {
    Map out;
    int64_t frames, frame_stride;
    U8s chars, values;
    I64s offsets, frame_starts;
    U8s nonempty; /* frames items, or none when not asked for */
    int refuse_overlap;
    int64_t result;
} DecodeJob;

static void decode_job(Kernel *k, void *args) {
    DecodeJob *job = args;
    job->result = -1;
    k->stream = job->frames * job->out.height * job->out.width >= STREAM_OUTPUT;
    for (int64_t t = 0; t < job->frames; t++) {
        Map frame = job->out;
        frame.p += t * job->frame_stride;
        const int64_t first = AT(job->frame_starts, t), last = AT(job->frame_starts, t + 1);
        uint8_t foreground = 0;
        if (last > first) {
            I64s offsets = sub_i64(k, job->offsets, first, last + 1);
            U8s values = sub_u8(k, job->values, first, last);
            int64_t bad = label_map(k, frame, job->chars, offsets, values, job->refuse_overlap, &foreground);
            if (bad >= 0) {
                job->result = first + bad;
                return;
            }
            if (bad == -2) {
                job->result = -2;
                return;
            }
        } else {
            zero(k, frame);
        }
        if (job->nonempty.n > 0)
            AT(job->nonempty, t) = foreground;
    }
}

/* The packed strings: ``offsets`` (int64, one more than ``values``) rising from 0 to at most len(chars). */
static int check_packed(U8s chars, I64s offsets, U8s values) {
    if (offsets.n != values.n + 1 || offsets.p[0] < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets must hold one more item than values, from 0 up");
        return -1;
    }
    for (int64_t i = 0; i < values.n; i++) {
        if (offsets.p[i + 1] < offsets.p[i]) {
            PyErr_SetString(PyExc_ValueError, "offsets must not decrease");
            return -1;
        }
    }
    if (offsets.p[values.n] > chars.n) {
        PyErr_SetString(PyExc_ValueError, "offsets point past the end of chars");
        return -1;
    }
    return 0;
}

/* The packed strings as buffers, held in ``views`` from ``*held`` on (the caller releases them), and checked. */
static int get_packed(PyObject *chars_obj, PyObject *offsets_obj, PyObject *values_obj, Py_buffer *views, int *held, U8s *chars,
                      I64s *offsets, U8s *values) {
    if (get_items(chars_obj, &views[*held], 0, 1, "chars") < 0)
        return -1;
    *chars = as_u8(&views[(*held)++]);
    if (get_items(offsets_obj, &views[*held], 0, 8, "offsets") < 0)
        return -1;
    *offsets = as_i64(&views[(*held)++]);
    if (get_items(values_obj, &views[*held], 0, 1, "values") < 0)
        return -1;
    *values = as_u8(&views[(*held)++]);
    return check_packed(*chars, *offsets, *values);
}

/* ``starts`` (one more than ``frames``) rising from 0 to at most ``nvalues``: frame t's masks are starts[t]:starts[t+1]. */
static int check_frame_starts(I64s starts, int64_t frames, int64_t nvalues) {
    int ok = starts.n == frames + 1 && starts.p[0] >= 0 && starts.p[frames] <= nvalues;
    for (int64_t t = 0; ok && t < frames; t++)
        ok = starts.p[t] <= starts.p[t + 1];
    if (!ok)
        PyErr_SetString(PyExc_ValueError, "frame_starts must rise from 0 to at most len(values), one more than frames");
    return ok ? 0 : -1;
}

/* ``nonempty``, when not None, as a writable buffer of one byte per frame. */
static int get_nonempty(PyObject *obj, Py_buffer *view, int *held, int64_t frames, U8s *nonempty) {
    if (obj == Py_None)
        return 0;
    if (get_items(obj, view, 1, 1, "nonempty") < 0)
        return -1;
    (*held)++;
    *nonempty = as_u8(view);
    if (nonempty->n != frames) {
        PyErr_SetString(PyExc_ValueError, "nonempty must hold one byte per frame");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(decode_doc,
             "decode(out, chars, offsets, values, frame_starts=None, refuse_overlap=False, nonempty=None) -> int\n\n"
             "Writes every pixel of out, a (height, width) or (frames, height, width) uint8 array, from the\n"
             "masks value[i], chars[offsets[i]:offsets[i+1]]; frame t's masks are frame_starts[t]:frame_starts[t+1]\n"
             "(None: all masks in one frame). Returns -1, the index of the first invalid string, or -2 (frame\n"
             "left untouched) when masks overlap and refuse_overlap is true; else later masks paint over earlier.\n"
             "nonempty: a writable uint8 buffer, one item per frame, set to whether the frame has a non-zero pixel.");

static PyObject *py_decode(PyObject *self, PyObject *args) {
    PyObject *out_obj, *chars_obj, *offsets_obj, *values_obj, *starts_obj = Py_None, *nonempty_obj = Py_None;
    int refuse = 0;
    if (!PyArg_ParseTuple(args, "OOOO|OpO:decode", &out_obj, &chars_obj, &offsets_obj, &values_obj, &starts_obj, &refuse,
                          &nonempty_obj))
        return NULL;
    Py_buffer views[6];
    int held = 0;
    PyObject *result = NULL;
    DecodeJob job;
    memset(&job, 0, sizeof(job));
    int64_t one_frame[2] = {0, 0};
    if (get_map(out_obj, &views[held], 1, &job.out, &job.frames, &job.frame_stride) < 0)
        goto done;
    held++;
    if (too_large(job.out.height, job.out.width) < 0)
        goto done;
    if (get_packed(chars_obj, offsets_obj, values_obj, views, &held, &job.chars, &job.offsets, &job.values) < 0)
        goto done;
    if (starts_obj == Py_None) {
        if (job.frames != 1) {
            PyErr_SetString(PyExc_ValueError, "frame_starts is needed for more than one frame");
            goto done;
        }
        one_frame[1] = job.values.n;
        job.frame_starts.p = one_frame;
        job.frame_starts.n = 2;
    } else {
        if (get_items(starts_obj, &views[held], 0, 8, "frame_starts") < 0)
            goto done;
        job.frame_starts = as_i64(&views[held++]);
        if (check_frame_starts(job.frame_starts, job.frames, job.values.n) < 0)
            goto done;
    }
    if (get_nonempty(nonempty_obj, &views[held], &held, job.frames, &job.nonempty) < 0)
        goto done;
    job.refuse_overlap = refuse;
    int64_t work = job.frames * job.out.height * job.out.width + job.chars.n;
    result = run_to_int(decode_job, &job, work > SMALL_WORK, &job.result);
done:
    while (held > 0)
        PyBuffer_Release(&views[--held]);
    return result;
}

/* ------------------------- decode_sampled(out, chars, offsets, values, frame_starts, height, width, rows, cols) */

/* How many of the non-decreasing ``sampled`` are below each value 0..n: ``below[v]`` (n + 1 items). */
static I64s count_below(Kernel *k, I64s sampled, int64_t n) {
    I64s below = new_i64(k, n + 1, 0);
    int64_t i = 0;
    for (int64_t v = 0; v <= n; v++) {
        while (i < sampled.n && AT(sampled, i) < v)
            i++;
        AT(below, v) = i;
    }
    return below;
}

/* ``s`` (segments of a height x width mask) seen through nearest-neighbour sampling: output row i shows
   source row rows[i], output column j source column cols[j]. A segment [top, bottom) of column x becomes
   the output rows whose source row lies in it, in every output column showing x; order is kept, so
   later masks still paint over earlier ones. */
static void sample_segments(Kernel *k, const Segments *s, I64s row_below, I64s col_below, Segments *out) {
    int64_t n = 0;
    for (int64_t i = 0; i < s->n; i++) {
        int64_t x = AT(s->x, i);
        if (AT(row_below, AT(s->bottom, i)) > AT(row_below, AT(s->top, i)))
            n += AT(col_below, x + 1) - AT(col_below, x);
    }
    out->x = new_i32(k, n, 0);
    out->top = new_i32(k, n, 0);
    out->bottom = new_i32(k, n, 0);
    out->value = new_u8(k, n, 0);
    out->n = n;
    int64_t q = 0;
    for (int64_t i = 0; i < s->n; i++) {
        int64_t top = AT(row_below, AT(s->top, i)), bottom = AT(row_below, AT(s->bottom, i)), x = AT(s->x, i);
        if (bottom <= top)
            continue;
        for (int64_t j = AT(col_below, x); j < AT(col_below, x + 1); j++) {
            AT(out->x, q) = (int32_t)j;
            AT(out->top, q) = (int32_t)top;
            AT(out->bottom, q) = (int32_t)bottom;
            AT(out->value, q) = AT(s->value, i);
            q++;
        }
    }
}

typedef struct {
    Map out;
    int64_t frames, frame_stride, height, width;
    U8s chars, values;
    I64s offsets, frame_starts, rows, cols;
    U8s nonempty; /* frames items, or none when not asked for */
    int64_t result;
} SampledJob;

static void decode_sampled_job(Kernel *k, void *args) {
    SampledJob *job = args;
    job->result = -1;
    k->stream = job->frames * job->out.height * job->out.width >= STREAM_OUTPUT;
    I64s row_below = count_below(k, job->rows, job->height), col_below = count_below(k, job->cols, job->width);
    for (int64_t t = 0; t < job->frames; t++) {
        Map frame = job->out;
        frame.p += t * job->frame_stride;
        const int64_t first = AT(job->frame_starts, t), last = AT(job->frame_starts, t + 1);
        if (last == first) {
            zero(k, frame);
            if (job->nonempty.n > 0)
                AT(job->nonempty, t) = 0;
            continue;
        }
        const int mark = k->nblocks;
        Segments whole, shown;
        int64_t bad = segments(k, job->chars, sub_i64(k, job->offsets, first, last + 1), sub_u8(k, job->values, first, last),
                               job->height, job->width, &whole);
        if (bad >= 0) {
            job->result = first + bad;
            return;
        }
        sample_segments(k, &whole, row_below, col_below, &shown);
        const int painted = last - first > 1 && overlap(k, &shown, frame.width);
        if (painted)
            paint(k, frame, &shown);
        else
            fill(k, frame, &shown);
        if (job->nonempty.n > 0)
            AT(job->nonempty, t) = any_foreground(k, &shown, painted, frame);
        release_to(k, mark);
    }
}

/* ``sampled`` non-decreasing, inside [0, n), one per output row or column. */
static int check_sampled(I64s sampled, int64_t count, int64_t n, const char *name) {
    int ok = sampled.n == count;
    for (int64_t i = 0; ok && i < sampled.n; i++)
        ok = sampled.p[i] >= 0 && sampled.p[i] < n && (i == 0 || sampled.p[i] >= sampled.p[i - 1]);
    if (!ok)
        PyErr_Format(PyExc_ValueError, "%s must hold one non-decreasing position in [0, %lld) per output %s", name,
                     (long long)n, name[0] == 'r' ? "row" : "column");
    return ok ? 0 : -1;
}

PyDoc_STRVAR(decode_sampled_doc,
             "decode_sampled(out, chars, offsets, values, frame_starts, height, width, rows, cols, nonempty=None) -> int\n\n"
             "decode() of height x width masks straight to out (frames, h, w) by nearest-neighbour sampling: out[t, i, j]\n"
             "is the decoded pixel (rows[i], cols[j]); rows and cols are int64, non-decreasing. Only the sampled pixels\n"
             "are written. Returns -1, or the index of the first invalid string; overlapping masks: later ones win.\n"
             "nonempty: as decode's, for the sampled pixels.");

static PyObject *py_decode_sampled(PyObject *self, PyObject *args) {
    PyObject *out_obj, *chars_obj, *offsets_obj, *values_obj, *starts_obj, *rows_obj, *cols_obj, *nonempty_obj = Py_None;
    long long height, width;
    if (!PyArg_ParseTuple(args, "OOOOOLLOO|O:decode_sampled", &out_obj, &chars_obj, &offsets_obj, &values_obj, &starts_obj,
                          &height, &width, &rows_obj, &cols_obj, &nonempty_obj))
        return NULL;
    Py_buffer views[8];
    int held = 0;
    PyObject *result = NULL;
    SampledJob job;
    memset(&job, 0, sizeof(job));
    job.height = height;
    job.width = width;
    if (height < 0 || width < 0) {
        PyErr_SetString(PyExc_ValueError, "height and width must not be negative");
        return NULL;
    }
    if (too_large(height, width) < 0)
        return NULL;
    if (get_map(out_obj, &views[held], 1, &job.out, &job.frames, &job.frame_stride) < 0)
        goto done;
    held++;
    if (get_packed(chars_obj, offsets_obj, values_obj, views, &held, &job.chars, &job.offsets, &job.values) < 0)
        goto done;
    if (get_items(starts_obj, &views[held], 0, 8, "frame_starts") < 0)
        goto done;
    job.frame_starts = as_i64(&views[held++]);
    if (check_frame_starts(job.frame_starts, job.frames, job.values.n) < 0)
        goto done;
    if (get_items(rows_obj, &views[held], 0, 8, "rows") < 0)
        goto done;
    job.rows = as_i64(&views[held++]);
    if (get_items(cols_obj, &views[held], 0, 8, "cols") < 0)
        goto done;
    job.cols = as_i64(&views[held++]);
    if (check_sampled(job.rows, job.out.height, height, "rows") < 0 || check_sampled(job.cols, job.out.width, width, "cols") < 0)
        goto done;
    if (get_nonempty(nonempty_obj, &views[held], &held, job.frames, &job.nonempty) < 0)
        goto done;
    int64_t work = job.frames * job.out.height * job.out.width + job.chars.n;
    result = run_to_int(decode_sampled_job, &job, work > SMALL_WORK, &job.result);
done:
    while (held > 0)
        PyBuffer_Release(&views[--held]);
    return result;
}

/* ------------------------------------------------------ overlapping(chars, offsets, values, height, width) */

typedef struct {
    U8s chars, values;
    I64s offsets;
    int64_t height, width, result;
} OverlapJob;

static void overlap_job(Kernel *k, void *args) {
    OverlapJob *job = args;
    Segments s;
    job->result = segments(k, job->chars, job->offsets, job->values, job->height, job->width, &s);
    if (job->result < 0)
        job->result = overlap(k, &s, job->width) ? -2 : -1;
}

PyDoc_STRVAR(overlapping_doc,
             "overlapping(chars, offsets, values, height, width) -> int\n\n"
             "-2 when the masks share a pixel, -1 when they do not, else the index of the first invalid string.");

static PyObject *py_overlapping(PyObject *self, PyObject *args) {
    PyObject *chars_obj, *offsets_obj, *values_obj;
    OverlapJob job;
    memset(&job, 0, sizeof(job));
    long long height, width;
    if (!PyArg_ParseTuple(args, "OOOLL:overlapping", &chars_obj, &offsets_obj, &values_obj, &height, &width))
        return NULL;
    if (height < 0 || width < 0 || (width > 0 && height > INT64_MAX / width))
        return PyErr_Format(PyExc_ValueError, "no mask is %lld x %lld pixels", height, width);
    if (too_large(height, width) < 0)
        return NULL;
    job.height = height;
    job.width = width;
    Py_buffer views[3];
    int held = 0;
    PyObject *result = NULL;
    if (get_packed(chars_obj, offsets_obj, values_obj, views, &held, &job.chars, &job.offsets, &job.values) < 0)
        goto done;
    result = run_to_int(overlap_job, &job, job.chars.n > SMALL_WORK, &job.result);
done:
    while (held > 0)
        PyBuffer_Release(&views[--held]);
    return result;
}

/* -------------------------------------------------------------------------------- measure(chars, height, width) */

typedef struct {
    U8s chars;
    int64_t height, width;
    Measured measured;
} MeasureJob;

static void measure_job(Kernel *k, void *args) {
    MeasureJob *job = args;
    measure(k, job->chars, job->height, job->width, &job->measured);
}

PyDoc_STRVAR(measure_doc,
             "measure(chars, height, width) -> (area, x, y, w, h, canonical)\n\n"
             "Area and bbox of one compressed string (area -1 when it does not describe a height x width mask),\n"
             "and whether it is spelled as pycocotools writes it.");

static PyObject *py_measure(PyObject *self, PyObject *args) {
    PyObject *chars_obj;
    long long height, width;
    if (!PyArg_ParseTuple(args, "OLL:measure", &chars_obj, &height, &width))
        return NULL;
    Py_buffer chars;
    if (get_items(chars_obj, &chars, 0, 1, "chars") < 0)
        return NULL;
    MeasureJob job = {as_u8(&chars), height, width};
    Kernel k;
    PyObject *result = NULL;
    if (run(&k, measure_job, &job, chars.len > SMALL_WORK) == 0) {
        release_to(&k, 0);
        const Measured *m = &job.measured;
        result = Py_BuildValue("(LLLLLO)", (long long)m->area, (long long)m->x, (long long)m->y, (long long)m->w,
                               (long long)m->h, m->canonical ? Py_True : Py_False);
    }
    PyBuffer_Release(&chars);
    return result;
}

/* --------------------------------------------------------------------------------------- to_string(counts) */

typedef struct {
    I64s counts;
    U8s chars;
} ToStringJob;

static void to_string_job(Kernel *k, void *args) {
    ToStringJob *job = args;
    job->chars = to_string(k, job->counts);
}

PyDoc_STRVAR(to_string_doc, "to_string(counts) -> str\n\nrleToString of a buffer of int64 counts.");

static PyObject *py_to_string(PyObject *self, PyObject *counts_obj) {
    Py_buffer counts;
    if (get_items(counts_obj, &counts, 0, 8, "counts") < 0)
        return NULL;
    ToStringJob job = {as_i64(&counts)};
    Kernel k;
    PyObject *result = NULL;
    if (run(&k, to_string_job, &job, counts.len > SMALL_WORK) == 0) {
        result = ascii_str(job.chars);
        release_to(&k, 0);
    }
    PyBuffer_Release(&counts);
    return result;
}

/* -------------------------------------------------------------------------------------------- parse(chars) */

typedef struct {
    U8s chars;
    I64s counts;
} ParseJob;

static void parse_job(Kernel *k, void *args) {
    ParseJob *job = args;
    job->counts = new_i64(k, job->chars.n + 1, 0);
    job->counts.n = parse(k, job->chars, 0, job->chars.n, job->counts);
}

PyDoc_STRVAR(parse_doc, "parse(chars) -> [count, ...] or None\n\nrleFrString; None when truncated or a count overflows int64.");

static PyObject *py_parse(PyObject *self, PyObject *chars_obj) {
    Py_buffer chars;
    if (get_items(chars_obj, &chars, 0, 1, "chars") < 0)
        return NULL;
    ParseJob job = {as_u8(&chars)};
    Kernel k;
    PyObject *result = NULL;
    if (run(&k, parse_job, &job, chars.len > SMALL_WORK) == 0) {
        if (job.counts.n < 0) {
            result = Py_None;
            Py_INCREF(result);
        } else {
            result = PyList_New(job.counts.n);
            for (int64_t j = 0; result != NULL && j < job.counts.n; j++) {
                PyObject *count = PyLong_FromLongLong(job.counts.p[j]);
                if (count == NULL)
                    Py_CLEAR(result);
                else
                    PyList_SET_ITEM(result, j, count);
            }
        }
        release_to(&k, 0);
    }
    PyBuffer_Release(&chars);
    return result;
}

/* ---------------------------------------------------------------------------------------- canonical(chars) */

typedef struct {
    U8s chars, out;
} CanonicalJob;

static void canonical_job(Kernel *k, void *args) {
    CanonicalJob *job = args;
    job->out = canonical(k, job->chars);
}

PyDoc_STRVAR(canonical_doc,
             "canonical(chars) -> bytes or None\n\n"
             "The string pycocotools writes for the mask chars describes (zero-length runs dropped); None when invalid.");

static PyObject *py_canonical(PyObject *self, PyObject *chars_obj) {
    Py_buffer chars;
    if (get_items(chars_obj, &chars, 0, 1, "chars") < 0)
        return NULL;
    CanonicalJob job = {as_u8(&chars)};
    Kernel k;
    PyObject *result = NULL;
    if (run(&k, canonical_job, &job, chars.len > SMALL_WORK) == 0) {
        if (job.out.n < 0) {
            result = Py_None;
            Py_INCREF(result);
        } else {
            result = PyBytes_FromStringAndSize((const char *)job.out.p, job.out.n);
        }
        release_to(&k, 0);
    }
    PyBuffer_Release(&chars);
    return result;
}

/* ---------------------------------------------------------------------------------- unfilter(raw, height, stride) */

typedef struct {
    U8s raw;
    int64_t height, stride, result;
} UnfilterJob;

static void unfilter_job(Kernel *k, void *args) {
    UnfilterJob *job = args;
    job->result = unfilter(k, job->raw, job->height, job->stride);
}

PyDoc_STRVAR(unfilter_doc,
             "unfilter(raw, height, stride) -> int\n\n"
             "Undoes PNG row filters in place in raw, height rows of a filter byte and stride bytes, one byte per\n"
             "pixel (or packed 1/2/4-bit pixels). Returns -1, or the first row whose filter type is unknown.");

static PyObject *py_unfilter(PyObject *self, PyObject *args) {
    PyObject *raw_obj;
    long long height, stride;
    if (!PyArg_ParseTuple(args, "OLL:unfilter", &raw_obj, &height, &stride))
        return NULL;
    Py_buffer raw;
    if (get_items(raw_obj, &raw, 1, 1, "raw") < 0)
        return NULL;
    PyObject *result = NULL;
    if (height < 0 || stride < 0 || (height > 0 && stride > raw.len / height - 1)) { /* not stride + 1: it overflows */
        PyErr_Format(PyExc_ValueError, "%lld rows of %lld bytes and a filter byte do not fit in %zd bytes", height, stride, raw.len);
    } else {
        UnfilterJob job = {as_u8(&raw), height, stride, -1};
        result = run_to_int(unfilter_job, &job, raw.len > SMALL_WORK, &job.result);
    }
    PyBuffer_Release(&raw);
    return result;
}

#ifdef VOSCONV_BOUNDSCHECK
/* ------------------------------------------------------------- put_count(out, p, x): the checked build only */

typedef struct {
    U8s out;
    int64_t p, x;
} PutCountJob;

static void put_count_job(Kernel *k, void *args) {
    PutCountJob *job = args;
    job->p = put_count(k, job->out, job->p, job->x);
}

PyDoc_STRVAR(put_count_doc,
             "put_count(out, p, x) -> int\n\n"
             "The encoder's inner step, unguarded: writes count x at out[p:], returns the next position. Only in\n"
             "the checked build, where a test calls it with too little room to prove indices are checked.");

static PyObject *py_put_count(PyObject *self, PyObject *args) {
    PyObject *out_obj;
    long long p, x;
    if (!PyArg_ParseTuple(args, "OLL:put_count", &out_obj, &p, &x))
        return NULL;
    Py_buffer out;
    if (get_items(out_obj, &out, 1, 1, "out") < 0)
        return NULL;
    PutCountJob job = {as_u8(&out), p, x};
    PyObject *result = run_to_int(put_count_job, &job, 0, &job.p);
    PyBuffer_Release(&out);
    return result;
}
#endif

static PyMethodDef methods[] = {
    {"encode", py_encode, METH_VARARGS, encode_doc},
    {"decode", py_decode, METH_VARARGS, decode_doc},
    {"decode_sampled", py_decode_sampled, METH_VARARGS, decode_sampled_doc},
    {"overlapping", py_overlapping, METH_VARARGS, overlapping_doc},
    {"measure", py_measure, METH_VARARGS, measure_doc},
    {"to_string", py_to_string, METH_O, to_string_doc},
    {"parse", py_parse, METH_O, parse_doc},
    {"canonical", py_canonical, METH_O, canonical_doc},
    {"unfilter", py_unfilter, METH_VARARGS, unfilter_doc},
#ifdef VOSCONV_BOUNDSCHECK
    {"put_count", py_put_count, METH_VARARGS, put_count_doc},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, MODULE_NAME,
    "vosconv's compiled RLE and PNG kernels (converters/codecs/_kernels.c); BOUNDSCHECK says whether this build checks indices.",
    -1, methods,
};

PyMODINIT_FUNC MODULE_INIT(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
#ifdef VOSCONV_BOUNDSCHECK
    const int checked = 1;
#else
    const int checked = 0;
#endif
    if (PyModule_AddObject(m, "BOUNDSCHECK", PyBool_FromLong(checked)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
