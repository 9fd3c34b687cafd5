/* Stack depot: interning of word arrays, strings, Python frames and sites. */
#include "unit.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static void expect_round_trip(uint32_t id, const uint64_t *words, size_t n)
{
    uint64_t out[64];
    cr_assert_neq(id, 0);
    cr_assert_eq(xs_depot_get(id, out, XS_ARRAY_LEN(out)), n, "length of id %u", id);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(out[i], words[i], "word %zu of id %u", i, id);
}

Test(depot, equal_arrays_equal_ids)
{
    const uint64_t a[] = {0x401000, 0x402000, 0x403000};
    const uint64_t copy[] = {0x401000, 0x402000, 0x403000};
    uint32_t id = xs_depot_put(a, 3);
    cr_assert_neq(id, 0);
    size_t nodes = xs_depot_count();
    cr_assert_eq(xs_depot_put(copy, 3), id);
    cr_assert_eq(xs_depot_count(), nodes, "interning again must not store anything");
}

Test(depot, different_arrays_different_ids)
{
    const uint64_t a[] = {1, 2, 3}, b[] = {1, 2, 4}, c[] = {3, 2, 1};
    uint32_t ids[] = {
        xs_depot_put(a, 3), xs_depot_put(b, 3), xs_depot_put(c, 3),
        xs_depot_put(a, 2), /* a prefix of a */
        xs_depot_put(a, 1),
    };
    for (size_t i = 0; i < XS_ARRAY_LEN(ids); i++)
        for (size_t j = i + 1; j < XS_ARRAY_LEN(ids); j++)
            cr_assert_neq(ids[i], ids[j], "arrays %zu and %zu share id %u", i, j, ids[i]);
    expect_round_trip(ids[0], a, 3);
    expect_round_trip(ids[1], b, 3);
    expect_round_trip(ids[2], c, 3);
    expect_round_trip(ids[3], a, 2);
    expect_round_trip(ids[4], a, 1);
}

Test(depot, shared_tails)
{
    /* Two stacks of one thread differ in their innermost frames only. */
    const uint64_t a[] = {10, 20, 30, 40, 50}, b[] = {99, 30, 40, 50};
    uint32_t ia = xs_depot_put(a, 5);
    size_t nodes = xs_depot_count();
    uint32_t ib = xs_depot_put(b, 4);
    cr_assert_eq(xs_depot_count(), nodes + 1, "b stores only its own innermost word");
    expect_round_trip(ia, a, 5);
    expect_round_trip(ib, b, 4);
    expect_round_trip(xs_depot_put(a + 2, 3), a + 2, 3);
    cr_assert_eq(xs_depot_count(), nodes + 1, "the common tail was already there");
}

Test(depot, push_builds_the_ids_put_gives)
{
    /* A stack interned from its outermost word up, one push a word, has
     * the id xs_depot_put gives the whole array, and each step the id of
     * the array's tail. */
    const uint64_t a[] = {0x7001, 0x7002, 0x7003, 0x7004};
    uint32_t id = 0;
    for (size_t i = XS_ARRAY_LEN(a); i-- > 0;) {
        id = xs_depot_push(a[i], id);
        cr_assert_eq(id, xs_depot_put(a + i, XS_ARRAY_LEN(a) - i), "tail from word %zu", i);
    }
    expect_round_trip(id, a, XS_ARRAY_LEN(a));
    size_t nodes = xs_depot_count();
    cr_assert_eq(xs_depot_push(0x7000, id), xs_depot_push(0x7000, id));
    cr_assert_eq(xs_depot_count(), nodes + 1, "a repeated push stores nothing");
    cr_assert_eq(xs_depot_push(1, (uint32_t)nodes + 100), 0, "a tail id the depot never gave");
}

Test(depot, partial_and_invalid_get)
{
    const uint64_t a[] = {7, 8, 9, 10};
    uint32_t id = xs_depot_put(a, 4);
    uint64_t out[4] = {0};
    cr_assert_eq(xs_depot_get(id, out, 2), 2);
    cr_assert_eq(out[0], 7);
    cr_assert_eq(out[1], 8);
    cr_assert_eq(out[2], 0, "wrote past max");
    cr_assert_eq(xs_depot_get(0, out, 4), 0);
    cr_assert_eq(xs_depot_get(id + 1000, out, 4), 0);
}

Test(depot, empty_array)
{
    cr_assert_eq(xs_depot_put(NULL, 0), 0);
    cr_assert_eq(xs_depot_count(), 0);
}

Test(depot, words_are_full_width)
{
    const uint64_t a[] = {0, UINT64_MAX, 0x8000000000000000ull};
    expect_round_trip(xs_depot_put(a, 3), a, 3);
}

Test(depot, strings)
{
    uint32_t id = xs_string_put("main.py");
    cr_assert_neq(id, 0);
    char copy[] = "main.py";
    cr_assert_eq(xs_string_put(copy), id);
    cr_assert_neq(xs_string_put("main.pyc"), id);
    cr_assert_str_eq(xs_string_get(id), "main.py");
    cr_assert_eq(xs_string_count(), 2);
    cr_assert_str_eq(xs_string_get(xs_string_put(NULL)), "", "NULL interns as \"\"");
    cr_assert_str_eq(xs_string_get(0), "");
    cr_assert_str_eq(xs_string_get(12345), "");
}

Test(depot, many_strings)
{
    /* Past the first growth of the id table. */
    char s[32];
    uint32_t ids[3000];
    for (int i = 0; i < 3000; i++) {
        snprintf(s, sizeof(s), "file%d.py", i);
        ids[i] = xs_string_put(s);
    }
    for (int i = 0; i < 3000; i += 7) {
        snprintf(s, sizeof(s), "file%d.py", i);
        cr_assert_str_eq(xs_string_get(ids[i]), s);
        cr_assert_eq(xs_string_put(s), ids[i]);
    }
}

Test(depot, pystack_round_trip)
{
    const xs_pyframe_t frames[] = {
        {"/app/worker.py", "run", 17},
        {"/app/main.py", "<module>", 3},
        {"/app/gen.py", "huge", 1 << 21},   /* past the 20 line bits */
        {"/app/neg.py", "neg", -4},
    };
    uint32_t id = xs_pystack_put(frames, 4);
    cr_assert_neq(id, 0);
    cr_assert_eq(xs_pystack_put(frames, 4), id);
    xs_pyframe_t out[8];
    cr_assert_eq(xs_pystack_get(id, out, 8), 4);
    cr_assert_str_eq(out[0].file, "/app/worker.py");
    cr_assert_str_eq(out[0].function, "run");
    cr_assert_eq(out[0].line, 17);
    cr_assert_str_eq(out[1].function, "<module>");
    cr_assert_eq(out[1].line, 3);
    cr_assert_eq(out[2].line, (1 << 20) - 1, "large lines clamp to the largest line");
    cr_assert_str_eq(out[2].file, "/app/gen.py");
    cr_assert_eq(out[3].line, 0);
    cr_assert_eq(xs_pystack_get(id, out, 1), 1, "max is honoured");
}

Test(depot, sites)
{
    uint32_t native = xs_depot_put((const uint64_t[]){0x401000, 0x402000}, 2);
    uint32_t python = xs_pystack_put(&(xs_pyframe_t){"a.py", "f", 1}, 1);
    uint32_t site = xs_site_put(native, python);
    cr_assert_neq(site, 0);
    cr_assert_eq(xs_site_put(native, python), site);
    uint32_t n = 0, p = 0;
    xs_site_get(site, &n, &p);
    cr_assert_eq(n, native);
    cr_assert_eq(p, python);
    xs_site_get(xs_site_put(native, 0), &n, &p);
    cr_assert_eq(n, native);
    cr_assert_eq(p, 0);
    cr_assert_eq(xs_site_put(0, 0), 0, "no stacks, no site");
    /* Site ids are dense, in the order sites are first seen (short block
     * headers hold the small ones), and an id past the last names none. */
    cr_assert_eq(xs_site_put(native, 0), site + 1);
    cr_assert_eq(xs_site_count(), site + 1);
    xs_site_get(site + 2, &n, &p);
    cr_assert_eq(n, 0);
    cr_assert_eq(p, 0);
}

/* Four threads intern the same arrays in different orders; each records
 * the ids it got, and all must agree. */
enum { THREADS = 4, ARRAYS = 400 };
static uint32_t thread_ids[THREADS][ARRAYS];

static size_t array_of(int k, uint64_t *w)
{
    size_t n = 1 + (size_t)k % 12;
    w[0] = 0x400000 + (uint64_t)k; /* its own innermost frame ... */
    for (size_t i = 1; i < n; i++) /* ... under outer frames all arrays share */
        w[i] = 0x500000 + (uint64_t)(n - i);
    return n;
}

static void *intern_all(void *arg)
{
    static const int step[THREADS] = {1, 3, 7, 11}; /* coprime to ARRAYS */
    int t = (int)(intptr_t)arg;
    uint64_t w[16];
    for (int j = 0; j < ARRAYS; j++) {
        int k = (j * step[t] + 97 * t) % ARRAYS; /* each thread its own order */
        thread_ids[t][k] = xs_depot_put(w, array_of(k, w));
        char s[32];
        snprintf(s, sizeof(s), "s%d", k);
        xs_string_put(s);
    }
    return NULL;
}

Test(depot, concurrent_interning)
{
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&threads[t], NULL, intern_all, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    uint64_t w[16];
    for (int k = 0; k < ARRAYS; k++) {
        for (int t = 1; t < THREADS; t++)
            cr_assert_eq(thread_ids[t][k], thread_ids[0][k], "array %d, thread %d", k, t);
        expect_round_trip(thread_ids[0][k], w, array_of(k, w));
    }
    cr_assert_eq(xs_string_count(), ARRAYS);
}

/* One thread interns without pause while another forks: without the fork
 * handlers xisan_init installs, a child can inherit the depot lock held and
 * hang on its first intern (the alarm turns that hang into a failure). */
static atomic_bool stop;

static void *intern_forever(void *arg)
{
    uint64_t w[3] = {1, 2, 0};
    for (unsigned i = 0; !atomic_load(&stop); i++) {
        w[2] = i % 1000; /* a bounded set: lookups after the first thousand */
        xs_depot_put(w, 3);
    }
    return NULL;
}

Test(depot, fork_while_interning)
{
    cr_assert_eq(xisan_init(), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, intern_forever, NULL), 0);
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            alarm(10);
            uint64_t w = 42;
            _exit(xs_depot_put(&w, 1) != 0 ? 0 : 1);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %#x", i,
                  status);
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
}
