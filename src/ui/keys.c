/*
 * keys.c - the key table, action descriptions and the vim-notation key
 * parser (see keys.h, and docs/keys.md for why the keys are what they are).
 */
#include "keys.h"
#include "utf8.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "frame.h"

/* The one table. Order matters: help lists bindings in this order, and the
 * first binding of an action is the one the footer shows. */
static const KeyBinding KEY_TABLE[] = {
    {' ', ACTION_NEXT_STEP, "Space"},
    {'n', ACTION_NEXT_STEP, "n"},
    {'b', ACTION_PREV_STEP, "b"},
    {'p', ACTION_PREV_STEP, "p"},
    {KEY_CODE_BACKSPACE, ACTION_PREV_STEP, "Backspace"},
    {'g', ACTION_FIRST_STEP, "g"},
    {'G', ACTION_LAST_STEP, "G"},
    {'s', ACTION_STEP_LIST, "s"},
    {KEY_CODE_LEFT, ACTION_LEFT, "←"},
    {'h', ACTION_LEFT, "h"},
    {KEY_CODE_RIGHT, ACTION_RIGHT, "→"},
    {'l', ACTION_RIGHT, "l"},
    {KEY_CODE_UP, ACTION_UP, "↑"},
    {'k', ACTION_UP, "k"},
    {KEY_CODE_DOWN, ACTION_DOWN, "↓"},
    {'j', ACTION_DOWN, "j"},
    {KEY_CODE_HOME, ACTION_ROW_START, "Home"},
    {'0', ACTION_ROW_START, "0"},
    {KEY_CODE_END, ACTION_ROW_END, "End"},
    {'$', ACTION_ROW_END, "$"},
    {KEY_CODE_PAGE_UP, ACTION_PAGE_UP, "PgUp"},
    {KEY_CTRL('u'), ACTION_PAGE_UP, "Ctrl-U"},
    {KEY_CODE_PAGE_DOWN, ACTION_PAGE_DOWN, "PgDn"},
    {KEY_CTRL('d'), ACTION_PAGE_DOWN, "Ctrl-D"},
    {KEY_CODE_TAB, ACTION_NEXT_PANEL, "Tab"},
    {KEY_CODE_BACK_TAB, ACTION_PREV_PANEL, "Shift-Tab"},
    {']', ACTION_NEXT_SLICE, "]"},
    {'[', ACTION_PREV_SLICE, "["},
    {KEY_CODE_ENTER, ACTION_INSPECT, "Enter"},
    {'e', ACTION_EXPLAIN, "e"},
    {'N', ACTION_NOTES, "N"},
    {'v', ACTION_PICTURE, "v"},
    {'c', ACTION_TORCH, "c"},
    {'H', ACTION_HEADS, "H"},
    {KEY_CTRL('t'), ACTION_RETRY_QUIZ, "Ctrl-T"},
    {'x', ACTION_EXPERIMENT, "x"},
    {'o', ACTION_ORIGINAL, "o"},
    {'X', ACTION_RESET, "X"},
    {'?', ACTION_HELP, "?"},
    {KEY_CODE_F1, ACTION_HELP, "F1"},
    {KEY_CODE_ESCAPE, ACTION_CLOSE, "Esc"},
    {KEY_CTRL('l'), ACTION_REDRAW, "Ctrl-L"},
    {'q', ACTION_QUIT, "q"},
};

const KeyBinding *keys_table(size_t *count)
{
    *count = sizeof KEY_TABLE / sizeof KEY_TABLE[0];
    return KEY_TABLE;
}

Action keys_action(KeyCode key)
{
    for (size_t i = 0; i < sizeof KEY_TABLE / sizeof KEY_TABLE[0]; i++)
        if (KEY_TABLE[i].key == key)
            return KEY_TABLE[i].action;
    return ACTION_NONE;
}

const char *keys_action_help(Action action)
{
    switch (action) {
    case ACTION_NONE:
        return "";
    case ACTION_QUIT:
        return "quit (closes an open overlay first)";
    case ACTION_NEXT_STEP:
        return "next step";
    case ACTION_PREV_STEP:
        return "previous step";
    case ACTION_FIRST_STEP:
        return "first step";
    case ACTION_LAST_STEP:
        return "last step";
    case ACTION_STEP_LIST:
        return "list of steps: jump to one";
    case ACTION_UP:
        return "select the value above";
    case ACTION_DOWN:
        return "select the value below";
    case ACTION_LEFT:
        return "select the value to the left";
    case ACTION_RIGHT:
        return "select the value to the right";
    case ACTION_ROW_START:
        return "first value of the row";
    case ACTION_ROW_END:
        return "last value of the row";
    case ACTION_PAGE_UP:
        return "a page up in the tensor";
    case ACTION_PAGE_DOWN:
        return "a page down in the tensor";
    case ACTION_NEXT_PANEL:
        return "next tensor of the step";
    case ACTION_PREV_PANEL:
        return "previous tensor of the step";
    case ACTION_NEXT_SLICE:
        return "next head (slice) of a 3-D tensor";
    case ACTION_PREV_SLICE:
        return "previous head (slice) of a 3-D tensor";
    case ACTION_INSPECT:
        return "show the arithmetic behind the value";
    case ACTION_NOTES:
        return "the presenter's notes for the step (in lessons that have them)";
    case ACTION_EXPLAIN:
        return "the step's whole explanation";
    case ACTION_PICTURE:
        return "weights as numbers, as bars, or as who looks at whom";
    case ACTION_TORCH:
        return "show or hide the step's PyTorch code";
    case ACTION_RETRY_QUIZ:
        return "ask the step's quiz again (a skipped one first), its result forgotten";
    case ACTION_HEADS:
        return "every head's attention weights side by side (from a step that has them, or the next such step); "
               "Enter opens the selected head";
    case ACTION_EXPERIMENT:
        return "change something and recompute: type no-scale, zero-head=1, set=NAME[i,j]=VALUE, ... (as the flags)";
    case ACTION_ORIGINAL:
        return "show the original trace or the changed one (after x)";
    case ACTION_RESET:
        return "undo every change: back to the original trace";
    case ACTION_HELP:
        return "this help";
    case ACTION_CLOSE:
        return "close the overlay";
    case ACTION_REDRAW:
        return "redraw the screen";
    case ACTION_COUNT:
        break;
    }
    return "";
}

const char *keys_action_group(Action action)
{
    switch (action) {
    case ACTION_NEXT_STEP:
    case ACTION_PREV_STEP:
    case ACTION_FIRST_STEP:
    case ACTION_LAST_STEP:
    case ACTION_STEP_LIST:
        return "Steps";
    case ACTION_UP:
    case ACTION_DOWN:
    case ACTION_LEFT:
    case ACTION_RIGHT:
    case ACTION_ROW_START:
    case ACTION_ROW_END:
    case ACTION_PAGE_UP:
    case ACTION_PAGE_DOWN:
    case ACTION_NEXT_PANEL:
    case ACTION_PREV_PANEL:
    case ACTION_NEXT_SLICE:
    case ACTION_PREV_SLICE:
        return "Selection";
    case ACTION_EXPERIMENT:
    case ACTION_ORIGINAL:
    case ACTION_RESET:
        return "Experiments";
    case ACTION_NONE:
    case ACTION_QUIT:
    case ACTION_INSPECT:
    case ACTION_NOTES:
    case ACTION_EXPLAIN:
    case ACTION_PICTURE:
    case ACTION_TORCH:
    case ACTION_RETRY_QUIZ:
    case ACTION_HEADS:
    case ACTION_HELP:
    case ACTION_CLOSE:
    case ACTION_REDRAW:
    case ACTION_COUNT:
        break;
    }
    return "Views";
}

/* Names accepted inside <...>, case-insensitively. */
static const struct {
    const char *name;
    KeyCode key;
} KEY_NAMES[] = {
    {"Right", KEY_CODE_RIGHT},
    {"Left", KEY_CODE_LEFT},
    {"Up", KEY_CODE_UP},
    {"Down", KEY_CODE_DOWN},
    {"Enter", KEY_CODE_ENTER},
    {"CR", KEY_CODE_ENTER},
    {"Return", KEY_CODE_ENTER},
    {"Esc", KEY_CODE_ESCAPE},
    {"Tab", KEY_CODE_TAB},
    {"S-Tab", KEY_CODE_BACK_TAB},
    {"Space", ' '},
    {"BS", KEY_CODE_BACKSPACE},
    {"PageUp", KEY_CODE_PAGE_UP},
    {"PageDown", KEY_CODE_PAGE_DOWN},
    {"Home", KEY_CODE_HOME},
    {"End", KEY_CODE_END},
    {"F1", KEY_CODE_F1},
    {"lt", '<'},
};

bool keys_parse(const char *text, KeyCode *keys, size_t max, size_t *n, Error *err)
{
    *n = 0;
    const char *p = text;
    while (*p != '\0') {
        KeyCode key;
        size_t at = (size_t)(p - text);
        if (*p == '<' && strchr(p, '>') != NULL && strchr(p, '>') - p <= 12) {
            const char *close = strchr(p, '>');
            char name[16];
            size_t len = (size_t)(close - p - 1);
            memcpy(name, p + 1, len);
            name[len] = '\0';
            bool found = false;
            for (size_t i = 0; i < sizeof KEY_NAMES / sizeof KEY_NAMES[0] && !found; i++)
                if (strcasecmp(name, KEY_NAMES[i].name) == 0) {
                    key = KEY_NAMES[i].key;
                    found = true;
                }
            if (!found && len == 3 && (name[0] == 'C' || name[0] == 'c') && name[1] == '-' &&
                isalpha((unsigned char)name[2])) {
                key = KEY_CTRL(tolower((unsigned char)name[2]));
                found = true;
            }
            if (!found)
                return error_set_at(err, STATUS_USAGE, at,
                                    "unknown key <%s> (the names are listed under --keys in man attn-trace)", name);
            p = close + 1;
        } else {
            uint32_t cp;
            int len = utf8_decode(p, &cp);
            if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                return error_set_at(err, STATUS_USAGE, at,
                                    "a control character or invalid UTF-8; name keys as <Esc>, <C-l>");
            key = cp;
            p += len;
        }
        if (*n == max)
            return error_set(err, STATUS_USAGE, "more than %zu keys", max);
        keys[(*n)++] = key;
    }
    return true;
}
