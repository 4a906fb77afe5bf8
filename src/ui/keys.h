/*
 * keys.h - keys, actions, and the one table that binds them.
 *
 * A KeyCode is a Unicode code point for a character key, or one of the
 * KEY_CODE_* values above the Unicode range for the others. The terminal
 * backend turns what curses reads into KeyCodes; --keys parses the vim
 * notation ("<Right>", "<C-l>") into the same codes; both go through
 * keys_action. The help overlay and the footer are made from the same
 * table, so a key cannot work without being documented, or the reverse.
 */
#ifndef ATTN_KEYS_H
#define ATTN_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef uint32_t KeyCode;

enum {
    KEY_CODE_BASE = 0x110000, /* past the last Unicode code point */
    KEY_CODE_UP = KEY_CODE_BASE,
    KEY_CODE_DOWN,
    KEY_CODE_LEFT,
    KEY_CODE_RIGHT,
    KEY_CODE_PAGE_UP,
    KEY_CODE_PAGE_DOWN,
    KEY_CODE_HOME,
    KEY_CODE_END,
    KEY_CODE_ENTER,
    KEY_CODE_ESCAPE,
    KEY_CODE_TAB,
    KEY_CODE_BACK_TAB,
    KEY_CODE_BACKSPACE,
    KEY_CODE_F1,
    KEY_CODE_RESIZE,   /* the terminal changed size (not a key a user types) */
    KEY_CODE_CTRL_BASE /* KEY_CODE_CTRL_BASE + 'a'..'z': Ctrl and a letter */
};

/* Ctrl plus a lower-case letter. */
#define KEY_CTRL(letter) ((KeyCode)(KEY_CODE_CTRL_BASE + ((letter) - 'a')))

typedef enum Action {
    ACTION_NONE,
    ACTION_QUIT,
    ACTION_NEXT_STEP,
    ACTION_PREV_STEP,
    ACTION_FIRST_STEP,
    ACTION_LAST_STEP,
    ACTION_STEP_LIST,
    ACTION_UP,
    ACTION_DOWN,
    ACTION_LEFT,
    ACTION_RIGHT,
    ACTION_ROW_START,
    ACTION_ROW_END,
    ACTION_PAGE_UP,
    ACTION_PAGE_DOWN,
    ACTION_NEXT_PANEL,
    ACTION_PREV_PANEL,
    ACTION_NEXT_SLICE,
    ACTION_PREV_SLICE,
    ACTION_INSPECT,
    ACTION_NOTES,
    ACTION_EXPLAIN,
    ACTION_PICTURE,
    ACTION_TORCH,
    ACTION_HEADS,
    ACTION_RETRY_QUIZ,
    ACTION_EXPERIMENT,
    ACTION_ORIGINAL,
    ACTION_RESET,
    ACTION_HELP,
    ACTION_CLOSE,
    ACTION_REDRAW,
    ACTION_COUNT
} Action;

/* One binding: a key, what it does, and how help names the key. */
typedef struct KeyBinding {
    KeyCode key;
    Action action;
    const char *key_name; /* as shown in help: "Space", "→", "g" */
} KeyBinding;

/* The whole table, in help order. */
const KeyBinding *keys_table(size_t *count);

/* What key does, or ACTION_NONE. */
Action keys_action(KeyCode key);

/* A short description of an action for help ("next step"). */
const char *keys_action_help(Action action);

/* The help section an action belongs to ("Steps", "Selection", "Views"). */
const char *keys_action_group(Action action);

/* Parses a key sequence in vim notation: plain characters stand for
 * themselves (UTF-8), and <Right> <Left> <Up> <Down> <Enter> <CR> <Esc>
 * <Tab> <S-Tab> <Space> <BS> <PageUp> <PageDown> <Home> <End> <F1> <lt>
 * <C-x> (x a letter) name the others, case-insensitively. Fills keys (room
 * for max) and sets *n. Fails with STATUS_USAGE naming the bad part. */
bool keys_parse(const char *text, KeyCode *keys, size_t max, size_t *n, Error *err);

#endif
