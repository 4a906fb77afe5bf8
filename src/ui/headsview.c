/*
 * headsview.c - the heads view (H): every head's attention weights as
 * small heat maps on one screen, each labelled with its number and where
 * its weight goes most (see headsview.h).
 *
 * A tile is a label line ("head 3"), a map of s x s cells (or of pooled
 * blocks when s is too large for the screen) drawn in shades that say how
 * large each weight is, and one summary line. The page shown is the one
 * that holds the selected head; nothing here is remembered between frames.
 */
#include "headsview.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "view.h"

/* Columns between two tiles. */
#define HEADS_GAP 2

/* ------------------------------------------------------------------------
 * What a head attends to
 * ---------------------------------------------------------------------- */

void heads_summarize(const float *w, size_t s, HeadSummary *out)
{
    memset(out, 0, sizeof *out);
    out->place = HEAD_PLACE_ALONE;
    if (s < 2)
        return;
    out->rows = s - 1;
    double n = (double)(s - 1);
    /* pass 1: the three diagonals' means, over query rows 1 .. s-1 */
    for (size_t i = 1; i < s; i++) {
        out->previous += w[i * s + i - 1];
        out->first += w[i * s];
        out->self += w[i * s + i];
    }
    out->previous /= n, out->first /= n, out->self /= n;
    /* pass 2: the key column (1 .. s-1) with the largest mean */
    out->token_key = 1;
    out->token = -1.0;
    for (size_t j = 1; j < s; j++) {
        double sum = 0.0;
        for (size_t i = 1; i < s; i++)
            sum += w[i * s + j];
        if (sum / n > out->token) {
            out->token = sum / n;
            out->token_key = j;
        }
    }
    /* pass 3: the largest, ties going to the earlier place */
    out->place = HEAD_PLACE_PREVIOUS, out->mean = out->previous;
    if (out->first > out->mean)
        out->place = HEAD_PLACE_FIRST, out->mean = out->first;
    if (out->self > out->mean)
        out->place = HEAD_PLACE_SELF, out->mean = out->self;
    if (out->token > out->mean)
        out->place = HEAD_PLACE_TOKEN, out->mean = out->token;
}

/* ------------------------------------------------------------------------
 * Layout
 * ---------------------------------------------------------------------- */

/* Fills the tile sizes of out for maps of map_rows cells, cell_cols wide,
 * in avail rows and cols columns; returns the heads a page holds (0: none
 * fits). */
static size_t try_tiles(HeadsLayout *out, size_t map_rows, int cell_cols, int avail, int cols)
{
    if (map_rows > (size_t)avail)
        return 0;
    int map_cols = (int)map_rows * cell_cols;
    int tile_cols = map_cols > HEADS_TILE_MIN_COLS ? map_cols : HEADS_TILE_MIN_COLS;
    int tile_rows = (int)map_rows + 2;
    if (tile_rows > avail || tile_cols > cols - 2)
        return 0;
    out->map_rows = (int)map_rows;
    out->map_cols = (int)map_rows;
    out->cell_cols = cell_cols;
    out->tile_rows = tile_rows;
    out->tile_cols = tile_cols;
    out->per_row = (cols - 1 + HEADS_GAP) / (tile_cols + HEADS_GAP);
    int share = (cols - 1 + HEADS_GAP) / out->per_row - HEADS_GAP; /* the width left over, shared out */
    out->tile_cols = share > tile_cols ? share : tile_cols;
    out->per_page = out->per_row * ((avail + 1) / (tile_rows + 1));
    return (size_t)out->per_page;
}

void heads_layout(int rows, int cols, size_t n_heads, size_t s, HeadsLayout *out)
{
    memset(out, 0, sizeof *out);
    out->top = 2;
    out->status_row = rows - 2;
    out->legend_row = rows >= 16 ? rows - 3 : -1;
    out->legend_row2 = rows >= 20 ? rows - 4 : -1;
    int bottom = out->legend_row2 >= 0 ? out->legend_row2 : out->legend_row >= 0 ? out->legend_row : out->status_row;
    int avail = bottom - out->top;
    size_t min_rows = s < 4 ? s : 4, best = 0;
    HeadsLayout trial = *out, chosen = *out;
    for (size_t pool = 1; pool <= s && best < n_heads; pool++) {
        size_t map_rows = (s + pool - 1) / pool;
        if (map_rows < min_rows)
            break;
        if (pool > 1 && (s + pool - 2) / (pool - 1) == map_rows)
            continue; /* the same map as a smaller pool */
        for (int cell_cols = 2; cell_cols >= 1; cell_cols--) {
            size_t count = try_tiles(&trial, map_rows, cell_cols, avail, cols);
            count = count < n_heads ? count : n_heads;
            if (count > best) {
                best = count;
                chosen = trial;
                chosen.pool = (int)pool;
            }
        }
    }
    *out = chosen;
    out->too_small = best == 0;
}

int heads_tensor_of(const App *app, int step)
{
    const TraceStep *st = &app->trace->steps[step];
    int found = -1;
    for (int t = st->n_tensors - 1; t >= 0; t--) {
        const TraceTensor *tt = &st->tensors[t];
        const Tensor *x = tt->tensor;
        if (x->ndim == 3 && tt->dims[0] == DIM_HEAD && tt->dims[1] == DIM_SEQ && tt->dims[2] == DIM_SEQ &&
            app->formats.of[step][t].notation == NUM_PROBABILITY &&
            (step != app->step || !view_tensor_hidden(app, t))) {
            if (t == app->focus[step])
                return t;
            found = t;
        }
    }
    return found;
}

/* ------------------------------------------------------------------------
 * Words
 * ---------------------------------------------------------------------- */

/* The token word of key j. */
static const char *key_word(const App *app, size_t j)
{
    const Config *cfg = &app->trace->config;
    return j < cfg->n_tokens ? cfg->tokens[j] : "?";
}

/* The word a summary names: "prev", "first", "self", or the key's token
 * in quotes. */
static void place_word(const App *app, const HeadSummary *sum, char *buf, size_t size)
{
    switch (sum->place) {
    case HEAD_PLACE_ALONE:
        snprintf(buf, size, "one token");
        break;
    case HEAD_PLACE_PREVIOUS:
        snprintf(buf, size, "prev");
        break;
    case HEAD_PLACE_FIRST:
        snprintf(buf, size, "first");
        break;
    case HEAD_PLACE_SELF:
        snprintf(buf, size, "self");
        break;
    case HEAD_PLACE_TOKEN:
        snprintf(buf, size, "'%s'", key_word(app, sum->token_key));
        break;
    }
}

void heads_short_text(const App *app, const HeadSummary *sum, int max_cols, char *buf, size_t size)
{
    char word[96], number[32] = "";
    place_word(app, sum, word, sizeof word);
    if (sum->place != HEAD_PLACE_ALONE)
        snprintf(number, sizeof number, " %.2f", sum->mean);
    const char *mixed = sum->place != HEAD_PLACE_ALONE && sum->mean < HEADS_MOSTLY ? "~" : "";
    int room = max_cols - (int)strlen(mixed) - (int)strlen(number);
    if ((int)utf8_width(word) > room && room >= 2) { /* a long token word: cut, the number kept */
        size_t keep = 0, used = 0;
        while (word[keep] != '\0' && (int)used < room - 1) {
            uint32_t cp;
            int len = utf8_decode(word + keep, &cp);
            keep += len > 0 ? (size_t)len : 1;
            used++;
        }
        snprintf(word + keep, sizeof word - keep, "%s", "…");
    }
    snprintf(buf, size, "%s%s%s", mixed, word, number);
}

void heads_sentence(const App *app, size_t head, const HeadSummary *sum, int max_cols, char *buf, size_t size)
{
    if (sum->place == HEAD_PLACE_ALONE) {
        snprintf(buf, size, "head %zu: one token, so all its weight is on it", head);
        return;
    }
    char where[96];
    switch (sum->place) {
    case HEAD_PLACE_PREVIOUS:
        snprintf(where, sizeof where, "the previous token");
        break;
    case HEAD_PLACE_FIRST:
        snprintf(where, sizeof where, "the first token ('%s')", key_word(app, 0));
        break;
    case HEAD_PLACE_SELF:
        snprintf(where, sizeof where, "each token itself");
        break;
    case HEAD_PLACE_TOKEN:
    case HEAD_PLACE_ALONE:
        snprintf(where, sizeof where, "'%s' (key %zu)", key_word(app, sum->token_key), sum->token_key);
        break;
    }
    /* the longest form that fits: with the other means, without, then shorter words */
    char word[96];
    place_word(app, sum, word, sizeof word);
    const char *how = sum->mean >= HEADS_MOSTLY ? "mostly" : "mixed, most on";
    char forms[4][320];
    snprintf(forms[1], sizeof forms[1], "head %zu: %s %s, mean weight %.2f over query rows 1-%zu", head, how, where,
             sum->mean, sum->rows);
    snprintf(forms[0], sizeof forms[0], "%.200s (prev %.2f, first %.2f, self %.2f)", forms[1], sum->previous,
             sum->first, sum->self);
    snprintf(forms[2], sizeof forms[2], "head %zu: %s %s, mean %.2f over rows 1-%zu", head, how, word, sum->mean,
             sum->rows);
    snprintf(forms[3], sizeof forms[3], "head %zu: %s %s, mean %.2f", head, how, word, sum->mean);
    int pick = 0;
    while (pick < 3 && (int)utf8_width(forms[pick]) > max_cols)
        pick++;
    snprintf(buf, size, "%s", forms[pick]);
}

/* ------------------------------------------------------------------------
 * Drawing
 * ---------------------------------------------------------------------- */

/* The shade of a weight: 0 exactly, above 0, then from 0.125, 0.375,
 * 0.625 and 0.875 on. */
static int shade_of(float w)
{
    return w <= 0.0f ? 0 : w < 0.125f ? 1 : w < 0.375f ? 2 : w < 0.625f ? 3 : w < 0.875f ? 4 : 5;
}

static const char *const SHADES[] = {" ", "·", "░", "▒", "▓", "█"};
static const char *const SHADES_ASCII[] = {" ", ".", ":", "o", "O", "#"};

/* The largest weight of block (bi, bj) of a pool x pool grid over w[s][s]. */
static float block_max(const float *w, size_t s, size_t pool, size_t bi, size_t bj)
{
    float best = 0.0f;
    for (size_t i = bi * pool; i < (bi + 1) * pool && i < s; i++)
        for (size_t j = bj * pool; j < (bj + 1) * pool && j < s; j++)
            best = w[i * s + j] > best ? w[i * s + j] : best;
    return best;
}

/* One head's tile at (y, x): label, map, summary line. */
static void heads_tile(const App *app, Frame *frame, const float *w, size_t s, size_t head, bool selected,
                       const HeadsLayout *lay, int y, int x)
{
    char label[32];
    snprintf(label, sizeof label, "%s head %zu", selected ? (app->options.ascii ? ">" : "▶") : " ", head);
    frame_put(frame, y, x, label, selected ? ROLE_OVERLAY_SELECT : ROLE_PANEL_TITLE, lay->tile_cols);
    const char *const *shades = app->options.ascii ? SHADES_ASCII : SHADES;
    for (int i = 0; i < lay->map_rows; i++)
        for (int j = 0; j < lay->map_cols; j++) {
            float v = block_max(w, s, (size_t)lay->pool, (size_t)i, (size_t)j);
            int shade = shade_of(v);
            for (int c = 0; c < lay->cell_cols; c++) {
                int col = x + j * lay->cell_cols + c;
                frame_put(frame, y + 1 + i, col, shades[shade], ROLE_VALUE, 1);
                Cell *cell = frame_at(frame, y + 1 + i, col);
                if (cell != NULL)
                    cell->heat = (int8_t)(shade > FRAME_HEAT_LEVELS ? FRAME_HEAT_LEVELS : shade);
            }
        }
    HeadSummary sum;
    heads_summarize(w, s, &sum);
    char text[160];
    heads_short_text(app, &sum, lay->tile_cols, text, sizeof text);
    frame_put(frame, y + 1 + lay->map_rows, x, text, ROLE_TEXT, lay->tile_cols);
}

/* Row 1: which heads are shown, of which tensor, and how to read a map. */
static void heads_title(const App *app, Frame *frame, const HeadsLayout *lay, size_t first, size_t last)
{
    const TraceTensor *tt = &app->trace->steps[app->step].tensors[app->heads_tensor];
    const Tensor *x = tt->tensor;
    char pool[64] = "";
    if (lay->pool > 1)
        snprintf(pool, sizeof pool, "; cell = max of %dx%d", lay->pool, lay->pool);
    char forms[3][256]; /* the longest that fits */
    snprintf(forms[1], sizeof forms[1], " Heads %zu-%zu of %zu: %s [%zu, %zu, %zu]%s", first, last, x->shape[0],
             tt->name, x->shape[0], x->shape[1], x->shape[2], pool);
    snprintf(forms[0], sizeof forms[0], "%.200s, rows query, columns key", forms[1]);
    snprintf(forms[2], sizeof forms[2], " Heads %zu-%zu of %zu%s", first, last, x->shape[0], pool);
    int pick = 0;
    while (pick < 2 && (int)utf8_width(forms[pick]) > frame->cols)
        pick++;
    const char *text = forms[pick];
    frame_put(frame, 1, 0, text, ROLE_TITLE, frame->cols);
}

/* The key to the shades and to the summary lines, where there is room. */
static void heads_legend(const App *app, Frame *frame, const HeadsLayout *lay, size_t s, int row)
{
    if (lay->legend_row >= 0) {
        const char *shades = app->options.ascii ? " # >=.875  O >=.625  o >=.375  : >=.125  . above 0  blank: 0"
                                                : " █ ≥.875  ▓ ≥.625  ▒ ≥.375  ░ ≥.125  · above 0  blank: 0";
        frame_put(frame, row + (lay->legend_row2 >= 0), 0, shades, ROLE_DIM, frame->cols);
    }
    if (lay->legend_row2 >= 0 && s > 1) {
        char text[192];
        snprintf(text, sizeof text,
                 " Under each map: where it looks most (mean weight, query rows 1-%zu; ~: under %.1f)", s - 1,
                 HEADS_MOSTLY);
        frame_put(frame, row, 0, text, ROLE_DIM, frame->cols);
    }
}

/* The footer of the heads view: its own keys. */
static void heads_footer(const App *app, Frame *frame)
{
    static const char *const PAIRS[][2] = {{"←↑↓→", "head"}, {"PgDn", "page"}, {"Enter", "open it"}, {"Esc", "back"}};
    int row = frame->rows - 1, col = 1;
    frame_fill(frame, row, 0, 1, frame->cols, ' ', ROLE_FOOTER);
    for (size_t i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++) {
        const char *key = i == 0 && app->options.ascii ? "arrows" : PAIRS[i][0];
        int need = (int)utf8_width(key) + 1 + (int)strlen(PAIRS[i][1]);
        if (col + need > frame->cols - 1)
            break;
        col += frame_put(frame, row, col, key, ROLE_FOOTER_KEY, frame->cols - col);
        col += frame_put(frame, row, col, " ", ROLE_FOOTER, 1);
        col += frame_put(frame, row, col, PAIRS[i][1], ROLE_FOOTER, frame->cols - col);
        col += frame_put(frame, row, col, "  ", ROLE_FOOTER, 2);
    }
}

void compose_heads(const App *app, Frame *frame)
{
    const Tensor *x = app->trace->steps[app->step].tensors[app->heads_tensor].tensor;
    size_t n_heads = x->shape[0], s = x->shape[1];
    HeadsLayout lay;
    heads_layout(frame->rows, frame->cols, n_heads, s, &lay);
    frame_fill(frame, 1, 0, frame->rows - 1, frame->cols, ' ', ROLE_TEXT);
    heads_footer(app, frame);
    if (lay.too_small) {
        frame_put(frame, 2, 1, "The heads view needs a larger screen. Esc: back to the step.", ROLE_WARNING,
                  frame->cols - 2);
        return;
    }
    size_t selected = (size_t)app->heads_selected < n_heads ? (size_t)app->heads_selected : n_heads - 1;
    size_t first = selected / (size_t)lay.per_page * (size_t)lay.per_page;
    size_t last = first + (size_t)lay.per_page < n_heads ? first + (size_t)lay.per_page - 1 : n_heads - 1;
    heads_title(app, frame, &lay, first, last);
    for (size_t k = first; k <= last; k++) {
        int index = (int)(k - first);
        int y = lay.top + index / lay.per_row * (lay.tile_rows + 1);
        int col = 1 + index % lay.per_row * (lay.tile_cols + HEADS_GAP);
        heads_tile(app, frame, x->data + k * s * s, s, k, k == selected, &lay, y, col);
    }
    int used_rows = (int)((last - first) / (size_t)lay.per_row) + 1;
    int legend = lay.top + used_rows * (lay.tile_rows + 1); /* just under the tiles */
    int lowest = lay.legend_row2 >= 0 ? lay.legend_row2 : lay.legend_row;
    heads_legend(app, frame, &lay, s, legend < lowest ? legend : lowest);
    HeadSummary sum;
    heads_summarize(x->data + selected * s * s, s, &sum);
    char sentence[320];
    heads_sentence(app, selected, &sum, frame->cols - 2, sentence, sizeof sentence);
    frame_put(frame, lay.status_row, 1, sentence, ROLE_STRONG, frame->cols - 2);
}
