/*
 * check_headsview.c - the heads view (H, src/ui/headsview.c): what each
 * head is said to attend to, against means worked out by hand and by a
 * plain loop here; the tiles' layout at every size; the keys (select,
 * page, open a head); and its golden screens at 80x24 and 50x12, of the
 * article's multi-head step and of a GPT-2 fixture checkpoint.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "frame.h"
#include "headsview.h"
#include "keys.h"
#include "strbuf.h"
#include "fixture.h"
#include "suites.h"
#include "trace.h"
#include "view.h"

static const ViewOptions VIEW = {4, false, false, "my name is Marcello Politi", NULL};


/* A model trace of the d32 fixture (4 heads) over ids, at layer 1, through
 * the command line as main runs it. */
static Trace *model_trace(const char *ids)
{
    char prog[] = "attn-trace", model[] = "--model", dir[] = "tests/fixtures/gpt2/d32_h4_l3_f32_prefix",
         token_ids[] = "--token-ids", layer_flag[] = "--layer", layer[] = "1";
    char ids_copy[512];
    snprintf(ids_copy, sizeof ids_copy, "%s", ids);
    char *argv[] = {prog, model, dir, token_ids, ids_copy, layer_flag, layer, NULL};
    Options opts;
    Error err;
    error_clear(&err);
    ck_assert_msg(cli_parse(7, argv, &opts, &err), "%s", err.message);
    Trace *trace = trace_build(&opts.config, &err);
    cli_options_free(&opts);
    ck_assert_msg(trace != NULL, "%s", err.message);
    return trace;
}

/* Replays keys (vim notation) on app at rows x cols. */
static void press(App *app, const char *keys, int rows, int cols)
{
    KeyCode codes[64];
    size_t n = 0;
    Error err;
    error_clear(&err);
    ck_assert_msg(keys_parse(keys, codes, 64, &n, &err), "%s", err.message);
    for (size_t i = 0; i < n; i++)
        app_handle_key(app, codes[i], rows, cols);
}

/* ------------------------------------------------------------------------
 * What a head attends to
 * ---------------------------------------------------------------------- */

START_TEST(test_summaries_by_hand)
{
    /* rows are queries; each case's means worked out by hand over rows 1..s-1 */
    static const struct {
        size_t s;
        float w[16];
        HeadPlace place;
        double mean, previous, first, self;
        size_t token_key;
    } CASES[] = {
        /* a previous-token head under a causal mask */
        {3, {1, 0, 0, 1, 0, 0, 0, 1, 0}, HEAD_PLACE_PREVIOUS, 1.0, 1.0, 0.5, 0.0, 1},
        /* a first-token head: every row on key 0 */
        {3, {1, 0, 0, 1, 0, 0, 1, 0, 0}, HEAD_PLACE_FIRST, 1.0, 0.5, 1.0, 0.0, 1},
        /* itself, not causal */
        {3, {0.2f, 0.4f, 0.4f, 0.1f, 0.8f, 0.1f, 0.0f, 0.3f, 0.7f}, HEAD_PLACE_SELF, 0.75, 0.2, 0.05, 0.75, 1},
        /* one fixed key (2) for every query, not causal */
        {3, {0, 0, 1, 0, 0, 1, 0, 0, 1}, HEAD_PLACE_TOKEN, 1.0, 0.0, 0.0, 0.5, 2},
        /* spread out evenly: a tie goes to the previous token, and it is under half */
        {2, {0.5f, 0.5f, 0.5f, 0.5f}, HEAD_PLACE_PREVIOUS, 0.5, 0.5, 0.5, 0.5, 1},
        {4,
         {1, 0, 0, 0, 0.5f, 0.5f, 0, 0, 0.2f, 0.2f, 0.6f, 0, 0.1f, 0.1f, 0.1f, 0.7f},
         HEAD_PLACE_SELF,
         (0.5 + 0.6 + 0.7) / 3,
         (0.5 + 0.2 + 0.1) / 3,
         (0.5 + 0.2 + 0.1) / 3,
         (0.5 + 0.6 + 0.7) / 3,
         3},
        /* one token: nothing to compare */
        {1, {1}, HEAD_PLACE_ALONE, 0.0, 0.0, 0.0, 0.0, 0},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        HeadSummary sum;
        heads_summarize(CASES[c].w, CASES[c].s, &sum);
        ck_assert_msg(sum.place == CASES[c].place, "case %zu: place %d, expected %d", c, sum.place, CASES[c].place);
        ck_assert_double_eq_tol(sum.mean, CASES[c].mean, 1e-6);
        ck_assert_double_eq_tol(sum.previous, CASES[c].previous, 1e-6);
        ck_assert_double_eq_tol(sum.first, CASES[c].first, 1e-6);
        ck_assert_double_eq_tol(sum.self, CASES[c].self, 1e-6);
        if (CASES[c].place == HEAD_PLACE_TOKEN)
            ck_assert_uint_eq(sum.token_key, CASES[c].token_key);
        ck_assert_uint_eq(sum.rows, CASES[c].s - 1);
    }
}
END_TEST

/* The mean of column offset `diag` (-1: previous, 0: itself) or of key
 * `key` (diag > 0) over rows 1..s-1, by a loop written apart from
 * heads_summarize. */
static double mean_of(const float *w, size_t s, int diag, size_t key)
{
    double total = 0.0;
    for (size_t i = 1; i < s; i++)
        total += diag > 0 ? w[i * s + key] : w[i * s + (size_t)((long)i + diag)];
    return total / (double)(s - 1);
}

/* Every head of the article's and a model's weights: the place named is
 * the largest mean, and the words on screen carry that mean. */
START_TEST(test_summaries_of_real_traces)
{
    Trace *traces[2] = {fixture_article_trace(), model_trace("5 17 3 60 42 7 8 9 10 11")};
    for (int k = 0; k < 2; k++) {
        const Trace *trace = traces[k];
        int step = trace_find_step(trace, k == 0 ? "mh_softmax" : "gpt2_softmax", NULL);
        ck_assert_int_ge(step, 0);
        static App app;
        app_init(&app, trace, NULL, &VIEW);
        app_go(&app, step);
        int t = heads_tensor_of(&app, step);
        ck_assert_int_ge(t, 0);
        const Tensor *x = trace->steps[step].tensors[t].tensor;
        size_t s = x->shape[1];
        for (size_t h = 0; h < x->shape[0]; h++) {
            const float *w = x->data + h * s * s;
            HeadSummary sum;
            heads_summarize(w, s, &sum);
            double best = -1.0;
            for (size_t j = 0; j < s; j++)
                best = fmax(best, mean_of(w, s, 1, j));
            best = fmax(best, fmax(mean_of(w, s, -1, 0), mean_of(w, s, 0, 0)));
            ck_assert_double_eq_tol(sum.mean, best, 1e-9);
            char sentence[320], want[32];
            heads_sentence(&app, h, &sum, 200, sentence, sizeof sentence);
            snprintf(want, sizeof want, "%.2f", best);
            ck_assert_msg(strstr(sentence, want) != NULL, "head %zu: \"%s\" lacks %s", h, sentence, want);
            ck_assert_msg(strstr(sentence, best >= HEADS_MOSTLY ? "mostly" : "mixed") != NULL, "%s", sentence);
        }
    }
    trace_free(traces[0]);
    trace_free(traces[1]);
}
END_TEST

/* ------------------------------------------------------------------------
 * Layout
 * ---------------------------------------------------------------------- */

START_TEST(test_layout_fits_every_size)
{
    for (int rows = 12; rows <= 50; rows += 3)
        for (int cols = 50; cols <= 200; cols += 13)
            for (size_t heads = 1; heads <= 16; heads += 5)
                for (size_t s = 1; s <= 70; s += 7) {
                    HeadsLayout lay;
                    heads_layout(rows, cols, heads, s, &lay);
                    ck_assert_msg(!lay.too_small, "%dx%d, %zu heads of %zu: too small", cols, rows, heads, s);
                    int bottom = lay.legend_row2 >= 0  ? lay.legend_row2
                                 : lay.legend_row >= 0 ? lay.legend_row
                                                       : lay.status_row;
                    int tile_rows_used = (lay.per_page + lay.per_row - 1) / lay.per_row;
                    ck_assert_int_le(lay.top + tile_rows_used * (lay.tile_rows + 1) - 1, bottom);
                    ck_assert_int_le(lay.per_row * lay.tile_cols + (lay.per_row - 1) * 2, cols - 1);
                    ck_assert_int_ge(lay.map_cols * lay.cell_cols, 1);
                    ck_assert_int_le(lay.map_cols * lay.cell_cols, lay.tile_cols);
                    ck_assert_uint_ge((size_t)lay.map_rows * (size_t)lay.pool, s); /* every weight in some cell */
                    ck_assert_uint_lt((size_t)(lay.map_rows - 1) * (size_t)lay.pool, s);
                    ck_assert_int_ge(lay.map_rows, s < 4 ? (int)s : 4);
                    ck_assert_int_ge(lay.per_page, 1);
                }
    HeadsLayout lay;
    heads_layout(24, 80, 4, 5, &lay); /* the article at 80x24: every head, one weight a cell */
    ck_assert_int_ge(lay.per_page, 4);
    ck_assert_int_eq(lay.pool, 1);
    heads_layout(24, 80, 12, 20, &lay); /* GPT-2 small's 12 heads, 20 tokens */
    ck_assert_int_ge(lay.per_page, 8);
}
END_TEST

/* ------------------------------------------------------------------------
 * Keys
 * ---------------------------------------------------------------------- */

START_TEST(test_keys_select_page_and_open)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &VIEW);
    int softmax = trace_find_step(trace, "mh_softmax", NULL);
    /* from the first step, H goes to the first step with weights in heads */
    press(&app, "H", 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_HEADS);
    ck_assert_int_eq(app.step, softmax);
    ck_assert_int_eq(app.heads_selected, 0);
    press(&app, "ll<Right>", 24, 80);
    ck_assert_int_eq(app.heads_selected, 3);
    press(&app, "l", 24, 80); /* stays on the last */
    ck_assert_int_eq(app.heads_selected, 3);
    press(&app, "h<Home>", 24, 80);
    ck_assert_int_eq(app.heads_selected, 0);
    /* at 50x12 a page holds 3 heads: PgDn goes to the next page */
    press(&app, "<PageDown>", 12, 50);
    ck_assert_int_eq(app.heads_selected, 3);
    Frame frame;
    ck_assert(frame_init(&frame, 12, 50));
    app_compose(&app, &frame);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "Heads 3-3 of 4") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    /* Enter: that head, same row and column, the focus on the weights */
    int t = heads_tensor_of(&app, softmax);
    app.cursor[softmax][t] = 0 * 25 + 2 * 5 + 1; /* head 0, row 2, column 1 */
    press(&app, "<PageUp>l<Enter>", 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_NONE);
    ck_assert_int_eq(app.focus[softmax], t);
    ck_assert_uint_eq(app.cursor[softmax][t], 1 * 25 + 2 * 5 + 1);
    /* Esc leaves the selection as it was */
    press(&app, "Hl<Esc>", 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_NONE);
    ck_assert_uint_eq(app.cursor[softmax][t], 1 * 25 + 2 * 5 + 1);
    /* in part 1 alone (a step list of one head) there is nothing to show */
    static App one;
    app_init(&one, trace, NULL, &VIEW);
    one.n_walk = trace_find_step(trace, "mh_weights", NULL); /* the walk cut before part 2 */
    press(&one, "H", 24, 80);
    ck_assert_int_eq(one.overlay, OVERLAY_NONE);
    trace_free(trace);
}
END_TEST

START_TEST(test_composing_heads_is_pure)
{
    Trace *trace = fixture_article_trace();
    static App app, before;
    static const int sizes[][2] = {{24, 80}, {12, 50}, {40, 120}, {10, 40}};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        app_init(&app, trace, NULL, &VIEW);
        press(&app, "Hl", 24, 80);
        memcpy(&before, &app, sizeof app);
        Frame frame;
        ck_assert(frame_init(&frame, sizes[z][0], sizes[z][1]));
        app_compose(&app, &frame);
        frame_free(&frame);
        ck_assert_msg(memcmp(&before, &app, sizeof app) == 0, "composing at %dx%d changed the App", sizes[z][1],
                      sizes[z][0]);
    }
    trace_free(trace);
}
END_TEST

/* ------------------------------------------------------------------------
 * Golden screens (tests/screens/heads-*.txt; make screens rewrites them)
 * ---------------------------------------------------------------------- */

/* Compares the screen of app at rows x cols with tests/screens/NAME.txt,
 * or writes it under ATTN_UPDATE_SCREENS. */
static void check_screen(const App *app, int rows, int cols, const char *name)
{
    Frame frame;
    ck_assert(frame_init(&frame, rows, cols));
    app_compose(app, &frame);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    frame_free(&frame);
    const char *dir = getenv("ATTN_SCREENS_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s.txt", dir != NULL && *dir != '\0' ? dir : "tests/screens", name);
    if (getenv("ATTN_UPDATE_SCREENS") != NULL) {
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "cannot write %s", path);
        fputs(strbuf_text(&text), f);
        fclose(f);
    } else {
        FILE *f = fopen(path, "r");
        ck_assert_msg(f != NULL, "%s: %s (make screens writes it)", path, strerror(errno));
        static char want[1 << 16];
        size_t n = fread(want, 1, sizeof want - 1, f);
        fclose(f);
        want[n] = '\0';
        ck_assert_msg(strcmp(want, strbuf_text(&text)) == 0, "%s differs from the composed screen:\n%s", path,
                      strbuf_text(&text));
    }
    strbuf_free(&text);
}

START_TEST(test_golden_heads_screens)
{
    static const struct {
        const char *name;
        int model; /* 0: the article, 1: 5 token ids, 2: 20 token ids */
        const char *keys;
        int cols, rows;
        bool ascii;
    } CASES[] = {
        {"heads-mh-softmax", 0, "Hl", 80, 24, false},
        {"heads-mh-softmax-50x12", 0, "Hll", 50, 12, false},
        {"heads-mh-softmax-ascii-50x12", 0, "H<PageDown>", 50, 12, true},
        {"heads-mh-softmax-opened", 0, "Hjl<Enter>", 80, 24, false},
        {"heads-gpt2-softmax", 1, "Hl", 80, 24, false},
        {"heads-gpt2-20-tokens", 2, "H", 80, 24, false},
        {"heads-gpt2-20-tokens-50x12", 2, "Hl", 50, 12, false},
    };
    Trace *traces[3] = {fixture_article_trace(), model_trace("5 17 3 60 42"),
                        model_trace("5 17 3 60 42 7 8 9 10 11 12 13 14 15 16 1 2 3 4 5")};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        static App app;
        ViewOptions view = VIEW;
        view.ascii = CASES[c].ascii;
        view.title = CASES[c].model == 0 ? VIEW.title : CASES[c].model == 1 ? "5 token ids" : "20 token ids";
        app_init(&app, traces[CASES[c].model], NULL, &view);
        press(&app, CASES[c].keys, CASES[c].rows, CASES[c].cols);
        check_screen(&app, CASES[c].rows, CASES[c].cols, CASES[c].name);
    }
    for (int k = 0; k < 3; k++)
        trace_free(traces[k]);
}
END_TEST

Suite *headsview_suite(void)
{
    Suite *s = suite_create("headsview");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_summaries_by_hand);
    tcase_add_test(tc, test_summaries_of_real_traces);
    tcase_add_test(tc, test_layout_fits_every_size);
    tcase_add_test(tc, test_keys_select_page_and_open);
    tcase_add_test(tc, test_composing_heads_is_pure);
    tcase_add_test(tc, test_golden_heads_screens);
    suite_add_tcase(s, tc);
    return s;
}
