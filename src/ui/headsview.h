/*
 * headsview.h - every head of a layer's attention weights on one screen
 * (the H key): one small heat map per head, each with a line saying where
 * that head's weight goes most, paged when they do not all fit.
 *
 * Pure code, as the rest of the composer: heads_summarize reads a head's
 * weights, heads_layout works out the tiles for a screen size, and
 * compose_heads draws the view of an App into a frame. Which head is
 * selected is the one piece of state (app->heads_selected); which page is
 * shown is derived from it. input.c moves the selection and opens a head.
 */
#ifndef ATTN_HEADSVIEW_H
#define ATTN_HEADSVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "frame.h"

typedef struct App App;

/* Where one head puts most of its weight. */
typedef enum HeadPlace {
    HEAD_PLACE_ALONE,    /* one token only: nothing to compare */
    HEAD_PLACE_PREVIOUS, /* key i-1 for query i */
    HEAD_PLACE_FIRST,    /* key 0 */
    HEAD_PLACE_SELF,     /* key i for query i */
    HEAD_PLACE_TOKEN     /* one fixed key j >= 1 (HeadSummary.token) */
} HeadPlace;

/* What a head attends to, from its weights w[s][s] (rows: queries, columns:
 * keys). Every mean is over the query rows 1 .. s-1 (row 0 is left out: it
 * has no previous token, and under a causal mask its only key is itself). */
typedef struct HeadSummary {
    HeadPlace place; /* the largest of the four means (ties: previous, first, self, token) */
    double mean;     /* that mean */
    double previous; /* mean of w[i][i-1] */
    double first;    /* mean of w[i][0] */
    double self;     /* mean of w[i][i] */
    double token;    /* mean of w[i][token_key], the largest column mean among keys 1 .. s-1 */
    size_t token_key;
    size_t rows; /* rows averaged: s - 1 */
} HeadSummary;

/* A weight of at least this mean counts as "mostly" there. */
#define HEADS_MOSTLY 0.5

/* Summarizes one head's weights w (s x s, row-major; s >= 1) into *out. */
void heads_summarize(const float *w, size_t s, HeadSummary *out);

/* The tiles of the heads view on a rows x cols screen, for n_heads heat
 * maps of s x s weights. */
typedef struct HeadsLayout {
    bool too_small;  /* not even one tile fits */
    int top;         /* first row of the tiles */
    int pool;        /* weights per cell along each side: a cell shows the largest of a pool x pool block */
    int map_rows;    /* cells of one map down (ceil(s / pool)) */
    int map_cols;    /* and across */
    int cell_cols;   /* columns of one cell: 2 (square-looking) or 1 */
    int tile_rows;   /* one tile: its label, its map, its summary line */
    int tile_cols;   /* one tile's width (at least HEADS_TILE_MIN_COLS) */
    int per_row;     /* tiles side by side */
    int per_page;    /* tiles on one page */
    int legend_row;  /* the shade key, or -1 when there is no room */
    int legend_row2; /* what the summary line means, or -1 */
    int status_row;  /* the selected head, in a sentence */
} HeadsLayout;

/* Columns a tile takes at the least (its label and summary line). */
#define HEADS_TILE_MIN_COLS 15

/* Works out the layout: among the pools that keep a map at least
 * min(s, 4) cells high, the one that puts the most heads on a page (up to
 * all of them), the smallest pool and the wider cells first. */
void heads_layout(int rows, int cols, size_t n_heads, size_t s, HeadsLayout *out);

/* The tensor of step `step` the heads view shows: the focused one when it
 * holds weights [h, s, s] (a softmax output cut into heads), else the
 * first such tensor of the step, else -1. */
int heads_tensor_of(const App *app, int step);

/* The short form of a summary for a tile ("prev 0.62", "~self 0.31" when under HEADS_MOSTLY,
 * "'politi' 0.55") into buf, in at most max_cols columns: a token word
 * too long for them is cut ("…"), the number kept. */
void heads_short_text(const App *app, const HeadSummary *sum, int max_cols, char *buf, size_t size);

/* The selected head's summary as a sentence into buf: where it looks
 * most and that mean, then the other means when the whole still fits in
 * max_cols columns. */
void heads_sentence(const App *app, size_t head, const HeadSummary *sum, int max_cols, char *buf, size_t size);

/* Draws the heads view of app (app->overlay == OVERLAY_HEADS) over rows 1
 * and below of frame; the header stays. Reads app, writes only frame. */
void compose_heads(const App *app, Frame *frame);

#endif
