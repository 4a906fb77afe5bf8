/*
 * svg.c - heat maps of attention scores and weights as SVG (see svg.h and
 * docs/svg.md).
 *
 * The document is laid out top to bottom: the header (step, formula,
 * configuration, what rows and columns are), the colour scale, then a grid
 * of panels, one per head, each a title, the key words slanted above the
 * map, the query words to its left, and the map itself. Sizes are in CSS
 * pixels; text widths are estimated from the number of columns, as no
 * font is at hand.
 */
#include "svg.h"
#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "png.h"

/* Most cells drawn as rectangles in all the maps together (16 heads of
 * 64 x 64); more become raster images even with few tokens. */
#define SVG_MAX_VECTOR_CELLS (16 * SVG_MAX_VECTOR_TOKENS * SVG_MAX_VECTOR_TOKENS)

#define MARGIN 24         /* around the document */
#define GAP 28            /* between panels */
#define CELL_MAX 56       /* side of a cell at most (few tokens) */
#define CELL_MIN 10       /* and at least, in the vector maps */
#define MAP_TARGET 448    /* side a vector map aims for */
#define RASTER_TARGET 512 /* side a raster map aims for; at least one pixel a cell */
#define LABEL_FONT_MAX 13 /* token labels */
#define LABEL_FONT_MIN 7
#define RASTER_FONT 9     /* token labels beside a raster map */
#define VALUE_FONT_MAX 11 /* values written in cells */
#define VALUE_FONT_MIN 7
#define CHAR_EM 0.62                         /* a character's average advance, in em */
#define LEGEND_W 240                         /* the colour bar */
#define ROW_MIN_HEIGHT 28                    /* a map of a single row is at least this tall */
#define LABEL_BYTES (SVG_LABEL_COLS * 4 + 8) /* a shortened word */
#define LEGEND_H 14

#define FONT_SANS "DejaVu Sans, Helvetica, Arial, sans-serif"
#define FONT_MONO "DejaVu Sans Mono, Menlo, Consolas, monospace"

/* Masked cells: light grey with darker diagonal lines, in the vector
 * pattern and in the raster images alike. */
static const unsigned char MASK_LIGHT[3] = {232, 232, 232};
static const unsigned char MASK_DARK[3] = {150, 150, 150};

/* The sequential scale: evenly spaced anchors from low to high, from
 * nearly white through green and teal to dark blue, getting darker all the
 * way so it also reads in grey on paper. */
static const unsigned char SCALE[][3] = {
    {252, 250, 240}, {214, 236, 200}, {140, 205, 180}, {60, 160, 175}, {35, 95, 160}, {25, 35, 95},
};
#define SCALE_SEGMENTS ((int)(sizeof SCALE / sizeof SCALE[0]) - 1)

void svg_color(double t, unsigned char rgb[3])
{
    if (!(t > 0.0)) /* NaN too */
        t = 0.0;
    if (t > 1.0)
        t = 1.0;
    double pos = t * SCALE_SEGMENTS;
    int i = (int)pos;
    if (i >= SCALE_SEGMENTS)
        i = SCALE_SEGMENTS - 1;
    double f = pos - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = (unsigned char)lround(SCALE[i][k] + (SCALE[i + 1][k] - SCALE[i][k]) * f);
}

/* ------------------------------------------------------------------------
 * Text
 * ---------------------------------------------------------------------- */

void svg_put_text(StrBuf *out, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        uint32_t cp;
        int len = utf8_decode(p, &cp);
        /* XML 1.0 characters, less the controls a terminal would act on */
        bool allowed = len > 0 && cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f) && cp != 0xfffe && cp != 0xffff;
        if (!allowed) {
            strbuf_append(out, "?", 1);
            p += len > 0 ? len : 1;
            continue;
        }
        switch (cp) {
        case '&':
            strbuf_puts(out, "&amp;");
            break;
        case '<':
            strbuf_puts(out, "&lt;");
            break;
        case '>':
            strbuf_puts(out, "&gt;");
            break;
        case '"':
            strbuf_puts(out, "&quot;");
            break;
        case '\'':
            strbuf_puts(out, "&apos;");
            break;
        default:
            strbuf_append(out, p, (size_t)len);
        }
        p += len;
    }
}

void svg_shorten(const char *text, size_t max_cols, char *buf, size_t size)
{
    static const char ELLIPSIS[] = "…";
    const size_t ell_len = sizeof ELLIPSIS - 1;
    if (size == 0)
        return;
    bool fits = utf8_width(text) <= max_cols && strlen(text) < size;
    size_t cols = 0, used = 0, cut = 0;
    for (const char *p = text; *p != '\0';) {
        uint32_t cp;
        int len = utf8_decode(p, &cp);
        if (len == 0) { /* one stray byte: one column, made '?' when written */
            len = 1;
            cp = '?';
        }
        size_t w = (size_t)codepoint_width(cp);
        if (fits) {
            memcpy(buf + used, p, (size_t)len);
        } else {
            /* keep what leaves room for the ellipsis, in columns and bytes */
            if (cols + w > max_cols - 1 || used + (size_t)len + ell_len >= size)
                break;
            memcpy(buf + used, p, (size_t)len);
            cut = used + (size_t)len;
        }
        used += (size_t)len;
        cols += w;
        p += len;
    }
    if (fits) {
        buf[used] = '\0';
        return;
    }
    if (cut + ell_len < size) {
        memcpy(buf + cut, ELLIPSIS, ell_len);
        cut += ell_len;
    }
    buf[cut] = '\0';
}

/* Estimated width in px of text at font size font. */
static int text_width(const char *text, double font)
{
    return (int)ceil((double)utf8_width(text) * font * CHAR_EM);
}

/* ------------------------------------------------------------------------
 * What is drawn
 * ---------------------------------------------------------------------- */

int svg_tensor(const TraceStep *step)
{
    int found = -1;
    for (int i = 0; i < step->n_tensors; i++) {
        const TraceTensor *tt = &step->tensors[i];
        const Tensor *t = tt->tensor;
        if (!tt->is_output)
            continue;
        bool square = (t->ndim == 2 && tt->dims[0] == DIM_SEQ && tt->dims[1] == DIM_SEQ) ||
                      (t->ndim == 3 && tt->dims[0] == DIM_HEAD && tt->dims[1] == DIM_SEQ && tt->dims[2] == DIM_SEQ);
        /* one query's scores or weights: one row of a map */
        bool one_row = t->ndim == 1 && tt->dims[0] == DIM_SEQ &&
                       (tt->how.op == OP_DOT_ROWS || tt->how.op == OP_SCALE || tt->how.op == OP_SOFTMAX);
        if (!square && !one_row)
            continue;
        if (found < 0 || tt->how.op == OP_SOFTMAX)
            found = i;
    }
    return found;
}

int svg_pick_step(const Trace *trace, int step, Error *err)
{
    const char *what = step >= 0 && step < trace->n_steps ? trace->steps[step].id : "?";
    if (step < 0)
        for (int i = 0; i < trace->n_steps; i++)
            if (trace->steps[i].def->default_picture)
                step = i;
    if (step >= 0 && step < trace->n_steps && svg_tensor(&trace->steps[step]) >= 0)
        return step;
    char ids[TRACE_MAX_STEPS * 20] = "";
    size_t used = 0;
    for (int i = 0; i < trace->n_steps && used < sizeof ids; i++)
        if (svg_tensor(&trace->steps[i]) >= 0)
            used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%s", used ? ", " : "", trace->steps[i].id);
    error_set(err, STATUS_USAGE, "--svg: step '%s' has no attention scores or weights to draw (steps that have: %s)",
              what, ids);
    return -1;
}

/* One step's tensor as heat maps. */
typedef struct HeatMap {
    const TraceTensor *tt;
    const Config *cfg;
    size_t n_maps, rows, cols; /* n_maps maps of rows x cols; rows is 1 for one query */
    size_t query_token;        /* the token of the only row when rows is 1 */
    bool weights;              /* softmax output: the scale is 0..1 */
    double lo, hi;             /* the colour scale's ends */
    bool any_masked;
    NumFormat fmt; /* how values are written */
} HeatMap;

/* The token that row r of a map is the query of. */
static size_t row_token(const HeatMap *hm, size_t r)
{
    return hm->tt->tensor->ndim == 1 ? hm->query_token : r;
}

/* Whether the cell (query token q, key k) with value v is masked out:
 * -inf in the scores, or a key after the query under a causal mask (whose
 * weight is then 0). NaN, which no step makes, is drawn the same way. */
static bool cell_masked(const HeatMap *hm, size_t q, size_t k, float v)
{
    return (isinf(v) && v < 0) || isnan(v) || (hm->cfg->causal && k > q);
}

/* Where v falls on the colour scale, clamped to 0..1 (NaN: 0). */
static double scale_pos(const HeatMap *hm, float v)
{
    double t = hm->hi > hm->lo ? ((double)v - hm->lo) / (hm->hi - hm->lo) : 0.5;
    return t > 1.0 ? 1.0 : t > 0.0 ? t : 0.0;
}

/* Fills hm for the tensor tt of trace: how many maps of what size, the
 * colour scale's ends, whether any cell is masked, and the number format
 * (precision digits). */
static void heatmap_init(HeatMap *hm, const Trace *trace, const TraceTensor *tt, int precision)
{
    const Tensor *t = tt->tensor;
    memset(hm, 0, sizeof *hm);
    hm->tt = tt;
    hm->cfg = &trace->config;
    hm->n_maps = t->ndim == 3 ? t->shape[0] : 1;
    hm->rows = t->ndim == 1 ? 1 : t->shape[t->ndim - 2];
    hm->cols = t->shape[t->ndim - 1];
    hm->query_token = trace->config.focus - 1;
    hm->weights = tt->how.op == OP_SOFTMAX;
    hm->fmt = numfmt_choose(t->data, t->size, precision);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t m = 0; m < hm->n_maps; m++)
        for (size_t r = 0; r < hm->rows; r++)
            for (size_t c = 0; c < hm->cols; c++) {
                float v = t->data[(m * hm->rows + r) * hm->cols + c];
                if (cell_masked(hm, row_token(hm, r), c, v)) {
                    hm->any_masked = true;
                    continue;
                }
                if (isfinite(v)) {
                    lo = fmin(lo, v);
                    hi = fmax(hi, v);
                }
            }
    if (hm->weights || !(lo <= hi)) {
        lo = 0.0;
        hi = 1.0;
    }
    hm->lo = lo;
    hm->hi = hi;
    /* A heat map is read at a glance: fixed notation ("0.0082") rather than
     * the scientific one PyTorch picks for a wide span ("8.2053e-03"),
     * unless the values are too large for it to stay short. */
    float most_negative = 0.0f, most_positive = 0.0f;
    bool non_finite = false;
    for (size_t i = 0; i < t->size; i++) {
        float v = t->data[i];
        non_finite |= !isfinite(v);
        if (isfinite(v) && v < most_negative)
            most_negative = v;
        if (isfinite(v) && v > most_positive)
            most_positive = v;
    }
    if (hm->fmt.notation == NUM_SCIENTIFIC && -most_negative < 1e6f && most_positive < 1e6f) {
        /* the widest text is that of an extreme value, or "-inf" */
        char buf[NUMFMT_BUF];
        hm->fmt.notation = NUM_FIXED;
        int neg = numfmt_write(&hm->fmt, most_negative, buf), pos = numfmt_write(&hm->fmt, most_positive, buf);
        hm->fmt.width = neg > pos ? neg : pos;
        if (non_finite && hm->fmt.width < 4)
            hm->fmt.width = 4;
    }
}

/* ------------------------------------------------------------------------
 * Layout
 * ---------------------------------------------------------------------- */

typedef struct Layout {
    bool raster;          /* maps as PNG images, not rectangles */
    int cell;             /* width of a cell on the page, px (raster: image pixels per cell too) */
    int cell_h;           /* its height: the width, but more for a single row */
    size_t label_step;    /* a label on every label_step-th token */
    int font;             /* token labels' font size */
    int value_font;       /* values written in the cells, 0 for none */
    int label_w;          /* widest token label, px */
    int slant;            /* height the slanted key labels take */
    int map_x, map_y;     /* the map's corner in its panel */
    int panel_w, panel_h; /* a panel with its gap */
    size_t grid_cols, grid_rows;
    int header_h;      /* title lines and colour scale */
    int width, height; /* the document */
} Layout;

/* The smallest of 1, 2, 5, 10, 20, 50, ... that is at least n. */
static size_t nice_step(size_t n)
{
    for (size_t base = 1;; base *= 10) {
        if (base >= n)
            return base;
        if (2 * base >= n)
            return 2 * base;
        if (5 * base >= n)
            return 5 * base;
    }
}

/* Token i's word as a label, shortened. */
static void token_label(const HeatMap *hm, size_t i, char *buf, size_t size)
{
    svg_shorten(i < hm->cfg->n_tokens ? hm->cfg->tokens[i] : "?", SVG_LABEL_COLS, buf, size);
}

/* The label beside row or column i of a map: its word, after its 1-based
 * position when only every label_step-th token is labelled. */
static void axis_label(const HeatMap *hm, size_t label_step, size_t i, char *buf, size_t size)
{
    char word[LABEL_BYTES];
    token_label(hm, i, word, sizeof word);
    if (label_step > 1)
        snprintf(buf, size, "%zu %s", i + 1, word);
    else
        snprintf(buf, size, "%s", word);
}

/* Lays out the maps of hm: vector or raster, the size of a cell, which
 * tokens are labelled and the room the labels take, and the grid of
 * panels (about as many columns as rows). The header is left to
 * svg_write. */
static void layout_maps(Layout *lo, const HeatMap *hm)
{
    size_t side = hm->cols > hm->rows ? hm->cols : hm->rows;
    lo->raster = hm->cols > SVG_MAX_VECTOR_TOKENS || hm->n_maps * hm->rows * hm->cols > SVG_MAX_VECTOR_CELLS;
    if (lo->raster) {
        size_t cell = RASTER_TARGET / side;
        lo->cell = cell < 1 ? 1 : (int)cell;
        lo->font = RASTER_FONT;
        lo->label_step = nice_step((size_t)((RASTER_FONT + 2 + lo->cell - 1) / lo->cell));
    } else {
        size_t cell = MAP_TARGET / side;
        lo->cell = cell > CELL_MAX ? CELL_MAX : cell < CELL_MIN ? CELL_MIN : (int)cell;
        int font = lo->cell / 2;
        lo->font = font > LABEL_FONT_MAX ? LABEL_FONT_MAX : font < LABEL_FONT_MIN ? LABEL_FONT_MIN : font;
        lo->label_step = 1;
        /* values in the cells when they fit at a readable size */
        double fit = (lo->cell - 6) / (hm->fmt.width * CHAR_EM);
        lo->value_font = fit >= VALUE_FONT_MAX ? VALUE_FONT_MAX : fit >= VALUE_FONT_MIN ? (int)fit : 0;
    }
    /* a single row (one query) is drawn taller, so it reads as a strip */
    lo->cell_h = hm->rows == 1 && lo->cell < ROW_MIN_HEIGHT ? ROW_MIN_HEIGHT : lo->cell;
    lo->label_w = 0;
    for (size_t i = lo->label_step - 1; i < hm->cols; i += lo->label_step) {
        char label[LABEL_BYTES + 24];
        axis_label(hm, lo->label_step, i, label, sizeof label);
        int w = text_width(label, lo->font);
        if (w > lo->label_w)
            lo->label_w = w;
    }
    if (hm->rows == 1) { /* one query's row: its word, whichever tokens the columns label */
        char label[LABEL_BYTES];
        token_label(hm, hm->query_token, label, sizeof label);
        int w = text_width(label, lo->font);
        if (w > lo->label_w)
            lo->label_w = w;
    }
    /* the key labels rise at 45 degrees: as high (and as far right) as
     * 0.71 of their length, plus a line */
    lo->slant = (int)ceil(0.71 * lo->label_w) + lo->font;
    lo->map_x = lo->label_w + 10;
    lo->map_y = 22 + lo->slant;
    int map_w = (int)hm->cols * lo->cell, map_h = (int)hm->rows * lo->cell_h;
    int overhang = lo->slant - lo->cell / 2;
    lo->panel_w = lo->map_x + map_w + (overhang > 0 ? overhang : 0) + GAP;
    lo->panel_h = lo->map_y + map_h + GAP;
    lo->grid_cols = 1;
    while (lo->grid_cols * lo->grid_cols < hm->n_maps)
        lo->grid_cols++;
    lo->grid_rows = (hm->n_maps + lo->grid_cols - 1) / lo->grid_cols;
}

/* ------------------------------------------------------------------------
 * Header and colour scale
 * ---------------------------------------------------------------------- */

/* The header's lines of text. */
typedef struct Header {
    char title[256];
    char formula[sizeof((TraceStep *)0)->formula];
    char config[SVG_SENTENCE_COLS * 4 + 160];
    char axes[256];
} Header;

/* The header for step step_index of trace, drawn as hm, on the heap (a
 * few KB): the title (number, id, title), the formula, the configuration
 * (the sentence shortened to SVG_SENTENCE_COLS) and what the rows and
 * columns are. NULL when memory runs out; the caller frees it with
 * header_free. */
static Header *header_new(const Trace *trace, int step_index, const HeatMap *hm)
{
    Header *h = malloc(sizeof *h);
    if (h == NULL)
        return NULL;
    const TraceStep *step = &trace->steps[step_index];
    const Config *cfg = &trace->config;
    snprintf(h->title, sizeof h->title, "Step %d · %s · %s", step_index + 1, step->id, step->title);
    snprintf(h->formula, sizeof h->formula, "%s", step->formula);
    char sentence[SVG_SENTENCE_COLS * 4 + 8] = "";
    if (cfg->sentence != NULL)
        svg_shorten(cfg->sentence, SVG_SENTENCE_COLS, sentence, sizeof sentence);
    char shape[64];
    tensor_shape_str(hm->tt->tensor, shape, sizeof shape);
    snprintf(h->config, sizeof h->config, "%s%s%ss %zu, d %zu, h %zu, d_k %zu, seed %llu%s", cfg->sentence ? "“" : "",
             sentence, cfg->sentence ? "” · " : "token ids · ", cfg->n_tokens, cfg->d_model, cfg->heads,
             config_d_k(cfg), (unsigned long long)cfg->seed, cfg->causal ? ", causal mask" : "");
    char query[LABEL_BYTES];
    token_label(hm, hm->query_token, query, sizeof query);
    if (hm->tt->tensor->ndim == 1)
        snprintf(h->axes, sizeof h->axes, "%s %s · the row: the query of token %zu (“%s”) · columns: keys",
                 hm->tt->name, shape, hm->query_token + 1, query);
    else
        snprintf(h->axes, sizeof h->axes,
                 "%s %s · rows: queries (the token looking) · columns: keys (the tokens looked at)", hm->tt->name,
                 shape);
    return h;
}

/* Frees a header of header_new; NULL is a no-op. */
static void header_free(Header *h)
{
    free(h);
}

/* Writes one line of text at (x, y); attrs are extra attributes. */
static void put_line(StrBuf *out, int x, int y, const char *attrs, const char *text)
{
    strbuf_printf(out, "<text x=\"%d\" y=\"%d\"%s%s>", x, y, *attrs ? " " : "", attrs);
    svg_put_text(out, text);
    strbuf_puts(out, "</text>\n");
}

/* Writes v in the map's number format. */
static void format_value(const HeatMap *hm, float v, char *buf)
{
    numfmt_write(&hm->fmt, v, buf);
}

/* The colour bar from lo to hi, its ends' values and the masked swatch,
 * starting at y. Returns the width it takes. */
static int put_legend(StrBuf *out, const HeatMap *hm, int y)
{
    strbuf_printf(out,
                  "<g id=\"legend\" font-size=\"11\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                  "fill=\"url(#attn-scale)\" stroke=\"#888888\" stroke-width=\"0.5\"/>\n",
                  MARGIN, y, LEGEND_W, LEGEND_H);
    char lo[NUMFMT_BUF], hi[NUMFMT_BUF];
    format_value(hm, (float)hm->lo, lo);
    format_value(hm, (float)hm->hi, hi);
    int text_y = y + LEGEND_H + 13;
    put_line(out, MARGIN, text_y, "", lo);
    put_line(out, MARGIN + LEGEND_W / 2, text_y, "text-anchor=\"middle\" fill=\"#555555\"",
             hm->weights ? "attention weight" : "score");
    put_line(out, MARGIN + LEGEND_W, text_y, "text-anchor=\"end\"", hi);
    int width = LEGEND_W;
    if (hm->any_masked) {
        int x = MARGIN + LEGEND_W + 24;
        strbuf_printf(out,
                      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#attn-masked)\" "
                      "stroke=\"#888888\" stroke-width=\"0.5\"/>\n",
                      x, y, LEGEND_H, LEGEND_H);
        const char *what = hm->weights ? "masked: a later key, weight 0" : "masked: a later key, -inf";
        put_line(out, x + LEGEND_H + 6, y + LEGEND_H - 3, "", what);
        width += 24 + LEGEND_H + 6 + text_width(what, 11);
    }
    strbuf_puts(out, "</g>\n");
    return width;
}

/* The gradient of the colour scale and the masked cells' pattern. */
static void put_defs(StrBuf *out)
{
    strbuf_puts(out, "<defs>\n<linearGradient id=\"attn-scale\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"0\">\n");
    for (int i = 0; i <= 10; i++) {
        unsigned char rgb[3];
        svg_color(i / 10.0, rgb);
        strbuf_printf(out, "<stop offset=\"%.1f\" stop-color=\"#%02x%02x%02x\"/>\n", i / 10.0, rgb[0], rgb[1], rgb[2]);
    }
    strbuf_printf(
        out,
        "</linearGradient>\n<pattern id=\"attn-masked\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
        "patternTransform=\"rotate(45)\">\n<rect width=\"6\" height=\"6\" fill=\"#%02x%02x%02x\"/>\n"
        "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#%02x%02x%02x\" stroke-width=\"2\"/>\n</pattern>\n"
        "</defs>\n",
        MASK_LIGHT[0], MASK_LIGHT[1], MASK_LIGHT[2], MASK_DARK[0], MASK_DARK[1], MASK_DARK[2]);
}

/* ------------------------------------------------------------------------
 * The maps
 * ---------------------------------------------------------------------- */

/* The token labels of one panel: keys slanted above the map, queries to
 * its left. */
static void put_labels(StrBuf *out, const HeatMap *hm, const Layout *lo)
{
    strbuf_printf(out, "<g font-size=\"%d\" fill=\"#333333\">\n", lo->font);
    for (size_t c = lo->label_step - 1; c < hm->cols; c += lo->label_step) {
        char label[LABEL_BYTES + 24];
        axis_label(hm, lo->label_step, c, label, sizeof label);
        int x = lo->map_x + (int)c * lo->cell + lo->cell / 2, y = lo->map_y - 5;
        strbuf_printf(out, "<text x=\"%d\" y=\"%d\" dy=\"0.35em\" transform=\"rotate(-45 %d %d)\">", x, y, x, y);
        svg_put_text(out, label);
        strbuf_puts(out, "</text>\n");
    }
    for (size_t r = hm->rows > 1 ? lo->label_step - 1 : 0; r < hm->rows; r += lo->label_step) {
        char label[LABEL_BYTES + 24];
        axis_label(hm, hm->rows > 1 ? lo->label_step : 1, row_token(hm, r), label, sizeof label);
        int y = lo->map_y + (int)r * lo->cell_h + lo->cell_h / 2;
        strbuf_printf(out, "<text x=\"%d\" y=\"%d\" dy=\"0.35em\" text-anchor=\"end\">", lo->map_x - 6, y);
        svg_put_text(out, label);
        strbuf_puts(out, "</text>\n");
    }
    strbuf_puts(out, "</g>\n");
}

/* Map m as a rectangle per cell, each with its value as a tooltip, and
 * the values written in the cells when they fit. */
static void put_vector_map(StrBuf *out, const HeatMap *hm, const Layout *lo, size_t m)
{
    const float *data = hm->tt->tensor->data + m * hm->rows * hm->cols;
    strbuf_printf(out, "<g class=\"cells\"%s>\n", lo->cell >= 16 ? " stroke=\"#ffffff\" stroke-width=\"1\"" : "");
    for (size_t r = 0; r < hm->rows; r++)
        for (size_t c = 0; c < hm->cols; c++) {
            float v = data[r * hm->cols + c];
            size_t q = row_token(hm, r);
            bool masked = cell_masked(hm, q, c, v);
            strbuf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" ", lo->map_x + (int)c * lo->cell,
                          lo->map_y + (int)r * lo->cell_h, lo->cell, lo->cell_h);
            if (masked) {
                strbuf_puts(out, "class=\"masked\" fill=\"url(#attn-masked)\">");
            } else {
                unsigned char rgb[3];
                svg_color(scale_pos(hm, v), rgb);
                strbuf_printf(out, "fill=\"#%02x%02x%02x\">", rgb[0], rgb[1], rgb[2]);
            }
            char value[NUMFMT_BUF];
            format_value(hm, v, value);
            strbuf_puts(out, "<title>");
            if (hm->tt->tensor->ndim == 3)
                strbuf_printf(out, "head %zu · ", m + 1);
            strbuf_puts(out, "query ‘");
            svg_put_text(out, q < hm->cfg->n_tokens ? hm->cfg->tokens[q] : "?");
            strbuf_puts(out, "’ → key ‘");
            svg_put_text(out, c < hm->cfg->n_tokens ? hm->cfg->tokens[c] : "?");
            strbuf_printf(out, "’: %s%s</title></rect>\n", value, masked ? " (masked)" : "");
        }
    strbuf_puts(out, "</g>\n");
    if (lo->value_font == 0)
        return;
    strbuf_printf(out, "<g class=\"values\" font-size=\"%d\" text-anchor=\"middle\" pointer-events=\"none\">\n",
                  lo->value_font);
    for (size_t r = 0; r < hm->rows; r++)
        for (size_t c = 0; c < hm->cols; c++) {
            float v = data[r * hm->cols + c];
            if (cell_masked(hm, row_token(hm, r), c, v))
                continue;
            char value[NUMFMT_BUF];
            format_value(hm, v, value);
            bool dark = scale_pos(hm, v) > 0.55; /* white on the darker half of the scale */
            strbuf_printf(out, "<text x=\"%d\" y=\"%d\" dy=\"0.35em\" fill=\"%s\">%s</text>\n",
                          lo->map_x + (int)c * lo->cell + lo->cell / 2,
                          lo->map_y + (int)r * lo->cell_h + lo->cell_h / 2, dark ? "#ffffff" : "#1a1a1a", value);
        }
    strbuf_puts(out, "</g>\n");
}

/* Bytes handed to it, written as base64. */
typedef struct Base64 {
    StrBuf *out;
    unsigned char held[3]; /* bytes waiting for a whole group of three */
    int n_held;
} Base64;

static const char BASE64_DIGITS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* PngSink: encodes n bytes of data. */
static void base64_sink(void *context, const unsigned char *data, size_t n)
{
    Base64 *b = context;
    char text[1024];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        b->held[b->n_held++] = data[i];
        if (b->n_held < 3)
            continue;
        uint32_t group = (uint32_t)b->held[0] << 16 | (uint32_t)b->held[1] << 8 | b->held[2];
        for (int k = 0; k < 4; k++)
            text[used++] = BASE64_DIGITS[(group >> (18 - 6 * k)) & 63];
        b->n_held = 0;
        if (used == sizeof text) {
            strbuf_append(b->out, text, used);
            used = 0;
        }
    }
    strbuf_append(b->out, text, used);
}

/* Writes the last bytes held, padded with '='. */
static void base64_end(Base64 *b)
{
    if (b->n_held == 0)
        return;
    uint32_t group = (uint32_t)b->held[0] << 16 | (b->n_held > 1 ? (uint32_t)b->held[1] << 8 : 0);
    char text[4] = {BASE64_DIGITS[(group >> 18) & 63], BASE64_DIGITS[(group >> 12) & 63],
                    b->n_held > 1 ? BASE64_DIGITS[(group >> 6) & 63] : '=', '='};
    strbuf_append(b->out, text, 4);
    b->n_held = 0;
}

/* The palette of the raster maps: the scale's levels, then the two greys
 * of masked cells. */
#define MASK_INDEX_LIGHT SVG_RASTER_LEVELS
#define MASK_INDEX_DARK (SVG_RASTER_LEVELS + 1)

typedef struct RasterRows {
    const HeatMap *hm;
    const float *data; /* the map's values */
    size_t first_row;  /* the strip's first cell row */
    size_t px;         /* image pixels per cell side */
} RasterRows;

/* PngRowFn: pixel row y of a strip. */
static void raster_row(void *context, size_t y, unsigned char *row)
{
    const RasterRows *rr = context;
    const HeatMap *hm = rr->hm;
    size_t r = rr->first_row + y / rr->px;
    size_t y_map = rr->first_row * rr->px + y; /* the hatching runs on across strips */
    for (size_t c = 0; c < hm->cols; c++) {
        float v = rr->data[r * hm->cols + c];
        bool masked = cell_masked(hm, row_token(hm, r), c, v);
        long level = lround(scale_pos(hm, v) * (SVG_RASTER_LEVELS - 1));
        unsigned char index = (unsigned char)(level < 0                       ? 0
                                              : level > SVG_RASTER_LEVELS - 1 ? SVG_RASTER_LEVELS - 1
                                                                              : level);
        for (size_t k = 0; k < rr->px; k++) {
            size_t x = c * rr->px + k;
            row[x] = !masked ? index : (x + y_map) % 4 == 0 ? MASK_INDEX_DARK : MASK_INDEX_LIGHT;
        }
    }
}

/* Map m as PNG images (in strips of whole rows when it is large), with a
 * tooltip naming the head. The image has px x px pixels a cell, stretched
 * to the cell's height on the page when that is more (a single row). */
static void put_raster_map(StrBuf *out, const HeatMap *hm, const Layout *lo, size_t m)
{
    unsigned char palette[3 * (SVG_RASTER_LEVELS + 2)];
    for (int i = 0; i < SVG_RASTER_LEVELS; i++)
        svg_color((double)i / (SVG_RASTER_LEVELS - 1), palette + 3 * i);
    memcpy(palette + 3 * MASK_INDEX_LIGHT, MASK_LIGHT, 3);
    memcpy(palette + 3 * MASK_INDEX_DARK, MASK_DARK, 3);

    size_t px = (size_t)lo->cell, width = hm->cols * px;
    size_t strip_rows = SVG_MAX_IMAGE_BYTES / ((width + 1) * px);
    if (strip_rows < 1)
        strip_rows = 1;
    RasterRows rr = {hm, hm->tt->tensor->data + m * hm->rows * hm->cols, 0, px};
    strbuf_puts(out, "<g class=\"raster\">\n<title>");
    if (hm->tt->tensor->ndim == 3)
        strbuf_printf(out, "head %zu: ", m + 1);
    strbuf_printf(out, "%zu × %zu %s (too many to label each; see --json for the values)</title>\n", hm->rows, hm->cols,
                  hm->weights ? "weights" : "scores");
    for (; rr.first_row < hm->rows; rr.first_row += strip_rows) {
        size_t rows = hm->rows - rr.first_row < strip_rows ? hm->rows - rr.first_row : strip_rows;
        strbuf_printf(out,
                      "<image x=\"%d\" y=\"%d\" width=\"%zu\" height=\"%zu\" preserveAspectRatio=\"none\" "
                      "image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" "
                      "xlink:href=\"data:image/png;base64,",
                      lo->map_x, lo->map_y + (int)rr.first_row * lo->cell_h, width, rows * (size_t)lo->cell_h);
        Base64 b64 = {out, {0}, 0};
        Error err; /* only an allocation can fail here: sizes are in range */
        error_clear(&err);
        if (!png_write(width, rows * px, palette, SVG_RASTER_LEVELS + 2, raster_row, &rr, base64_sink, &b64, &err))
            out->failed = true; /* as a StrBuf that runs out of memory */
        base64_end(&b64);
        strbuf_puts(out, "\"/>\n");
    }
    strbuf_puts(out, "</g>\n");
}

/* ------------------------------------------------------------------------
 * The document
 * ---------------------------------------------------------------------- */

/* Writes every map of hm, laid out as lo, each in its group under the
 * header: its title, its labels, its cells and its frame. */
static void put_maps(StrBuf *out, const HeatMap *hm, const Layout *lo)
{
    for (size_t m = 0; m < hm->n_maps; m++) {
        int x = MARGIN + (int)(m % lo->grid_cols) * lo->panel_w;
        int y = lo->header_h + (int)(m / lo->grid_cols) * lo->panel_h;
        strbuf_printf(out, "<g class=\"heatmap\" id=\"map-%zu\" transform=\"translate(%d %d)\">\n", m + 1, x, y);
        char title[TRACE_NAME_BYTES + 16];
        if (hm->tt->tensor->ndim == 3)
            snprintf(title, sizeof title, "head %zu", m + 1);
        else
            snprintf(title, sizeof title, "%s", hm->tt->name);
        put_line(out, lo->map_x, 14, "font-size=\"13\" font-weight=\"bold\"", title);
        put_labels(out, hm, lo);
        if (lo->raster)
            put_raster_map(out, hm, lo, m);
        else
            put_vector_map(out, hm, lo, m);
        strbuf_printf(out,
                      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888888\" "
                      "stroke-width=\"0.5\"/>\n</g>\n",
                      lo->map_x, lo->map_y, (int)hm->cols * lo->cell, (int)hm->rows * lo->cell_h);
    }
}


void svg_write(StrBuf *out, const Trace *trace, int step_index, int precision)
{
    const TraceStep *step = &trace->steps[step_index];
    int tensor = svg_tensor(step);
    if (tensor < 0)
        return;
    HeatMap hm;
    heatmap_init(&hm, trace, &step->tensors[tensor], precision);
    Layout lo;
    memset(&lo, 0, sizeof lo);
    layout_maps(&lo, &hm);
    Header *header = header_new(trace, step_index, &hm);
    if (header == NULL) {
        out->failed = true; /* as a StrBuf that runs out of memory */
        return;
    }

    /* baselines of the header's lines, then the colour scale */
    int y_title = MARGIN + 16, y_formula = y_title + 26, y_config = y_formula + 22, y_axes = y_config + 19;
    int y_legend = y_axes + 14;
    lo.header_h = y_legend + LEGEND_H + 13 + 20;
    int grid_w = (int)lo.grid_cols * lo.panel_w - GAP, grid_h = (int)lo.grid_rows * lo.panel_h - GAP;
    int width = grid_w;
    int widths[] = {text_width(header->title, 18 * 1.05), text_width(header->formula, 13),
                    text_width(header->config, 12), text_width(header->axes, 12), LEGEND_W + (hm.any_masked ? 250 : 0)};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++)
        if (widths[i] > width)
            width = widths[i];
    lo.width = width + 2 * MARGIN;
    lo.height = lo.header_h + grid_h + MARGIN;

    strbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    strbuf_printf(out,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
                  "version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"" FONT_SANS "\">\n",
                  lo.width, lo.height, lo.width, lo.height);
    strbuf_puts(out, "<title>");
    svg_put_text(out, header->title);
    strbuf_puts(out, "</title>\n<desc>");
    svg_put_text(out, header->config);
    strbuf_puts(out, "</desc>\n");
    put_defs(out);
    strbuf_puts(out, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");

    put_line(out, MARGIN, y_title, "font-size=\"18\" font-weight=\"bold\"", header->title);
    put_line(out, MARGIN, y_formula, "font-size=\"13\" font-family=\"" FONT_MONO "\"", header->formula);
    put_line(out, MARGIN, y_config, "font-size=\"12\" fill=\"#444444\"", header->config);
    put_line(out, MARGIN, y_axes, "font-size=\"12\" fill=\"#444444\"", header->axes);
    put_legend(out, &hm, y_legend);

    put_maps(out, &hm, &lo);
    strbuf_puts(out, "</svg>\n");
    header_free(header);
}
