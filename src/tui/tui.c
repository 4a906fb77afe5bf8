/*
 * tui.c - the terminal backend: the one file that talks to curses.
 *
 * It starts and stops ncurses, reads keys and turns them into KeyCodes,
 * tracks the terminal size, and paints the Frames the App composes. The
 * look of each cell role (colours and attributes) is a theme decided here,
 * at one of three levels: 256 colours, 8 colours, or none (NO_COLOR,
 * --no-color, or a terminal without colours), in one of three themes
 * (default, presenter, colorblind). Whatever the colours distinguish is
 * also marked by something other than hue (docs/accessibility.md has the
 * table); tui_frame_marks writes those marks out for the golden screens.
 * Signal handlers make sure
 * the terminal is restored however the program ends.
 */
#define _XOPEN_SOURCE_EXTENDED 1

#include "tui.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "attn_limits.h"

/* Escape delay in milliseconds unless ESCDELAY says otherwise: short, so
 * Esc closes an overlay at once, long enough for a key's escape sequence
 * to arrive in one piece. */
#define TUI_ESCAPE_DELAY_MS 25

/* Room for the reason curses could not start, as newterm_cause words it. */
#define TUI_CAUSE_BYTES 256

/* The largest COLUMNS or LINES curses can hold (a short). */
#define TUI_MAX_ENV_SIZE 32767

/* Keys handled from what is already typed (a paste) before the screen is
 * painted again: bounds the time between two frames while a paste is
 * drained, yet a 200 KB paste costs a few frames, not 200 000. */
#define TUI_MAX_KEYS_PER_FRAME 4096

/* ------------------------------------------------------------------------
 * Theme: how each role looks.
 */

/* "The terminal's own colour" in the style tables (use_default_colors). */
#define COLOR_DEFAULT (-1)

#define HEAT_STEPS (2 * FRAME_HEAT_LEVELS + 1)
#define LETTER_COLORS 6

typedef enum ColorLevel {
    COLOR_LEVEL_NONE, /* attributes only; every cell uses pair 0 */
    COLOR_LEVEL_8,    /* the eight ANSI colours */
    COLOR_LEVEL_256   /* the xterm-256 palette */
} ColorLevel;

/* A look as the tables state it: colours (or COLOR_DEFAULT) and attributes. */
typedef struct Style {
    short fg, bg;
    attr_t attr;
} Style;

/* A look ready to paint: a colour pair number and attributes. */
typedef struct Look {
    short pair;
    attr_t attr;
} Look;

/* Every look the painter needs, resolved to pairs once at start. */
typedef struct Theme {
    Look role[ROLE_COUNT];          /* by role (heat 0, letter 0 for the heat and letter roles) */
    Look value[HEAT_STEPS];         /* ROLE_VALUE by heat + FRAME_HEAT_LEVELS */
    Look cursor[HEAT_STEPS];        /* ROLE_CURSOR by heat */
    Look source[HEAT_STEPS];        /* ROLE_SOURCE by heat */
    Look letter[LETTER_COLORS];     /* ROLE_LETTER by letter % LETTER_COLORS */
    bool default_colors;            /* use_default_colors worked: -1 means the terminal's own */
    short pair_fg[THEME_MAX_PAIRS]; /* pair i+1 is (pair_fg[i], pair_bg[i]) */
    short pair_bg[THEME_MAX_PAIRS];
    int pairs; /* pairs allocated so far */
    bool dry;  /* only the attributes matter: no curses screen, no pairs made (tui_frame_marks) */
} Theme;

/* Roles at 256 colours. Foregrounds are mid-bright so they read on dark
 * and light terminals; bars and overlays set both colours. */
static const Style STYLES_256[ROLE_COUNT] = {
    [ROLE_TEXT] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_DIM] = {245, COLOR_DEFAULT, A_NORMAL},
    [ROLE_STRONG] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_CODE] = {107, COLOR_DEFAULT, A_UNDERLINE}, /* not by hue alone: underlined */
    [ROLE_HEADER] = {231, 24, A_BOLD},
    [ROLE_FOOTER] = {252, 237, A_NORMAL},
    [ROLE_FOOTER_KEY] = {222, 237, A_BOLD},
    [ROLE_TITLE] = {39, COLOR_DEFAULT, A_BOLD},
    [ROLE_FORMULA] = {173, COLOR_DEFAULT, A_NORMAL},
    [ROLE_BORDER] = {242, COLOR_DEFAULT, A_NORMAL},
    [ROLE_PANEL_TITLE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_PANEL_FOCUS] = {208, COLOR_DEFAULT, A_BOLD},
    [ROLE_LABEL] = {73, COLOR_DEFAULT, A_NORMAL},
    [ROLE_VALUE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_CURSOR] = {COLOR_DEFAULT, COLOR_DEFAULT, A_REVERSE},
    [ROLE_SOURCE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_UNDERLINE},
    [ROLE_OVERLAY] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_OVERLAY_SELECT] = {231, 24, A_BOLD},
    [ROLE_LETTER] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_WARNING] = {196, COLOR_DEFAULT, A_BOLD},
    [ROLE_CHANGED] = {16, 213, A_BOLD},
};

/* Roles at 8 colours. */
static const Style STYLES_8[ROLE_COUNT] = {
    [ROLE_TEXT] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_DIM] = {COLOR_DEFAULT, COLOR_DEFAULT, A_DIM},
    [ROLE_STRONG] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_CODE] = {COLOR_GREEN, COLOR_DEFAULT, A_UNDERLINE},
    [ROLE_HEADER] = {COLOR_WHITE, COLOR_BLUE, A_BOLD},
    [ROLE_FOOTER] = {COLOR_BLACK, COLOR_CYAN, A_NORMAL},
    [ROLE_FOOTER_KEY] = {COLOR_BLUE, COLOR_CYAN, A_BOLD},
    [ROLE_TITLE] = {COLOR_CYAN, COLOR_DEFAULT, A_BOLD},
    [ROLE_FORMULA] = {COLOR_MAGENTA, COLOR_DEFAULT, A_NORMAL},
    [ROLE_BORDER] = {COLOR_DEFAULT, COLOR_DEFAULT, A_DIM},
    [ROLE_PANEL_TITLE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_PANEL_FOCUS] = {COLOR_YELLOW, COLOR_DEFAULT, A_BOLD},
    [ROLE_LABEL] = {COLOR_CYAN, COLOR_DEFAULT, A_NORMAL},
    [ROLE_VALUE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_CURSOR] = {COLOR_DEFAULT, COLOR_DEFAULT, A_REVERSE},
    [ROLE_SOURCE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_UNDERLINE},
    [ROLE_OVERLAY] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_OVERLAY_SELECT] = {COLOR_WHITE, COLOR_BLUE, A_BOLD},
    [ROLE_LETTER] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_WARNING] = {COLOR_RED, COLOR_DEFAULT, A_BOLD},
    [ROLE_CHANGED] = {COLOR_BLACK, COLOR_MAGENTA, A_BOLD},
};

/* Roles without colour: attributes alone. */
static const Style STYLES_NONE[ROLE_COUNT] = {
    [ROLE_TEXT] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_DIM] = {COLOR_DEFAULT, COLOR_DEFAULT, A_DIM},
    [ROLE_STRONG] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_CODE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_UNDERLINE}, /* bold is ROLE_STRONG's */
    [ROLE_HEADER] = {COLOR_DEFAULT, COLOR_DEFAULT, A_REVERSE | A_BOLD},
    [ROLE_FOOTER] = {COLOR_DEFAULT, COLOR_DEFAULT, A_REVERSE},
    [ROLE_FOOTER_KEY] = {COLOR_DEFAULT, COLOR_DEFAULT, A_REVERSE | A_BOLD},
    [ROLE_TITLE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_FORMULA] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_BORDER] = {COLOR_DEFAULT, COLOR_DEFAULT, A_DIM},
    [ROLE_PANEL_TITLE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_PANEL_FOCUS] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_LABEL] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_VALUE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_CURSOR] = {COLOR_DEFAULT, COLOR_DEFAULT, A_REVERSE},
    [ROLE_SOURCE] = {COLOR_DEFAULT, COLOR_DEFAULT, A_UNDERLINE},
    [ROLE_OVERLAY] = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL},
    [ROLE_OVERLAY_SELECT] = {COLOR_DEFAULT, COLOR_DEFAULT, A_REVERSE | A_BOLD},
    [ROLE_LETTER] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
    [ROLE_WARNING] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD | A_REVERSE},
    [ROLE_CHANGED] = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD},
};

/* Heat at 256 colours, from -4 to +4: a diverging blue-to-red background
 * (close to ColorBrewer's RdBu) from the xterm cube, with the text colour
 * that reads on each (white on the dark ends, black on the pale tints).
 * Neutral (0) is the terminal's own colours, so values near zero stay
 * quiet on dark and light terminals alike. */
static const short HEAT_BG_256[HEAT_STEPS] = {25, 32, 110, 153, COLOR_DEFAULT, 224, 216, 167, 124};
static const short HEAT_FG_256[HEAT_STEPS] = {231, 231, 16, 16, COLOR_DEFAULT, 16, 16, 231, 231};

/* Heat as ink at 256 colours, for source cells, which keep one distinct
 * light background so they stand out from the values around them. */
static const short HEAT_INK_256[HEAT_STEPS] = {19, 25, 32, 67, 16, 131, 160, 124, 88};
#define SOURCE_BG_256 229
#define SOURCE_BG_8 COLOR_YELLOW

/* The einsum letter colours, cycled by letter index. */
static const short LETTERS_256[LETTER_COLORS] = {167, 71, 172, 68, 133, 37};
static const short LETTERS_8[LETTER_COLORS] = {COLOR_RED,  COLOR_GREEN,   COLOR_YELLOW,
                                               COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN};

/* The colour pair for (fg, bg), allocating it on first use. Pair 0 (the
 * terminal's default) when both are default or when pairs run out. */
static short theme_pair(Theme *theme, short fg, short bg)
{
    if ((fg == COLOR_DEFAULT && bg == COLOR_DEFAULT) || theme->dry)
        return 0;
    if (!theme->default_colors) {
        if (fg == COLOR_DEFAULT)
            fg = COLOR_WHITE;
        if (bg == COLOR_DEFAULT)
            bg = COLOR_BLACK;
    }
    for (int i = 0; i < theme->pairs; i++)
        if (theme->pair_fg[i] == fg && theme->pair_bg[i] == bg)
            return (short)(i + 1);
    if (theme->pairs >= THEME_MAX_PAIRS || theme->pairs + 1 >= COLOR_PAIRS)
        return 0;
    short pair = (short)(theme->pairs + 1);
    if (init_pair(pair, fg, bg) == ERR)
        return 0;
    theme->pair_fg[theme->pairs] = fg;
    theme->pair_bg[theme->pairs] = bg;
    theme->pairs++;
    return pair;
}

/* Resolves a style to a look: a pair (0 without colour) and attributes. */
static Look theme_look(Theme *theme, ColorLevel level, Style style)
{
    Look look = {0, style.attr};
    if (level != COLOR_LEVEL_NONE)
        look.pair = theme_pair(theme, style.fg, style.bg);
    return look;
}

/* The style of a value of this heat (-4..+4) at this level. */
static Style heat_value_style(ColorLevel level, int heat)
{
    int magnitude = heat < 0 ? -heat : heat;
    Style style = {COLOR_DEFAULT, COLOR_DEFAULT, A_NORMAL};
    switch (level) {
    case COLOR_LEVEL_256:
        style.fg = HEAT_FG_256[heat + FRAME_HEAT_LEVELS];
        style.bg = HEAT_BG_256[heat + FRAME_HEAT_LEVELS];
        style.attr = magnitude >= 3 ? A_BOLD : A_NORMAL; /* the strongest also by weight, as at 8 colours */
        break;
    case COLOR_LEVEL_8:
        style.fg = heat < 0 ? COLOR_BLUE : heat > 0 ? COLOR_RED : COLOR_DEFAULT;
        style.attr = magnitude >= 3 ? A_BOLD : A_NORMAL;
        break;
    case COLOR_LEVEL_NONE:
        style.attr = magnitude >= 3 ? A_BOLD : magnitude <= 1 ? A_DIM : A_NORMAL;
        break;
    }
    return style;
}

/* The style of a source value (one the selected value is computed from):
 * underlined, and on its own background when there is colour, with the
 * heat as the text colour. */
static Style heat_source_style(ColorLevel level, int heat)
{
    int magnitude = heat < 0 ? -heat : heat;
    Style style = heat_value_style(level, heat);
    switch (level) {
    case COLOR_LEVEL_256:
        style.fg = HEAT_INK_256[heat + FRAME_HEAT_LEVELS];
        style.bg = SOURCE_BG_256;
        style.attr = magnitude >= 3 ? A_BOLD : A_NORMAL;
        break;
    case COLOR_LEVEL_8:
        style.fg = heat < 0 ? COLOR_BLUE : heat > 0 ? COLOR_RED : COLOR_BLACK;
        style.bg = SOURCE_BG_8;
        break;
    case COLOR_LEVEL_NONE:
        break;
    }
    style.attr |= A_UNDERLINE;
    return style;
}

/* Fills theme with every look for this colour level. start_color (and
 * use_default_colors) must have run when level is not COLOR_LEVEL_NONE,
 * unless dry (only the attributes are wanted: no pair is made). */
static void theme_build(Theme *theme, ColorLevel level, bool default_colors, bool dry)
{
    memset(theme, 0, sizeof *theme);
    theme->default_colors = default_colors;
    theme->dry = dry;
    const Style *styles = level == COLOR_LEVEL_256 ? STYLES_256 : level == COLOR_LEVEL_8 ? STYLES_8 : STYLES_NONE;
    for (int role = 0; role < ROLE_COUNT; role++)
        theme->role[role] = theme_look(theme, level, styles[role]);
    for (int i = 0; i < HEAT_STEPS; i++) {
        int heat = i - FRAME_HEAT_LEVELS;
        Style value = heat_value_style(level, heat);
        theme->value[i] = theme_look(theme, level, value);
        /* The cursor is the value's look in reverse video, bold. */
        value.attr |= A_REVERSE | A_BOLD;
        theme->cursor[i] = theme_look(theme, level, value);
        theme->source[i] = theme_look(theme, level, heat_source_style(level, heat));
    }
    for (int i = 0; i < LETTER_COLORS; i++) {
        Style letter = {COLOR_DEFAULT, COLOR_DEFAULT, A_BOLD};
        if (level == COLOR_LEVEL_256)
            letter.fg = LETTERS_256[i];
        else if (level == COLOR_LEVEL_8)
            letter.fg = LETTERS_8[i];
        theme->letter[i] = theme_look(theme, level, letter);
    }
    theme->role[ROLE_VALUE] = theme->value[FRAME_HEAT_LEVELS];
    theme->role[ROLE_CURSOR] = theme->cursor[FRAME_HEAT_LEVELS];
    theme->role[ROLE_SOURCE] = theme->source[FRAME_HEAT_LEVELS];
    theme->role[ROLE_LETTER] = theme->letter[0];
}

/* The presenter theme: for a projector, where pale tints wash out. Every
 * text is bold and light on black; heat uses fully saturated colours. */
static void theme_presenter(Theme *theme, ColorLevel level)
{
    if (level == COLOR_LEVEL_NONE) {
        for (int role = 0; role < ROLE_COUNT; role++)
            theme->role[role].attr |= A_BOLD;
        for (int i = 0; i < HEAT_STEPS; i++)
            theme->value[i].attr |= A_BOLD;
        return;
    }
    bool rich = level == COLOR_LEVEL_256;
    short black = rich ? 16 : COLOR_BLACK, white = rich ? 231 : COLOR_WHITE, yellow = rich ? 226 : COLOR_YELLOW;
    short cyan = rich ? 51 : COLOR_CYAN, blue = rich ? 21 : COLOR_BLUE;
    static const Role text_roles[] = {ROLE_TEXT, ROLE_STRONG, ROLE_OVERLAY, ROLE_PANEL_TITLE, ROLE_BORDER, ROLE_DIM};
    for (size_t i = 0; i < sizeof text_roles / sizeof text_roles[0]; i++)
        theme->role[text_roles[i]] = theme_look(theme, level, (Style){white, black, A_BOLD});
    theme->role[ROLE_CODE] = theme_look(theme, level, (Style){cyan, black, A_BOLD});
    theme->role[ROLE_TITLE] = theme_look(theme, level, (Style){yellow, black, A_BOLD});
    theme->role[ROLE_FORMULA] = theme_look(theme, level, (Style){cyan, black, A_BOLD});
    theme->role[ROLE_LABEL] = theme_look(theme, level, (Style){yellow, black, A_BOLD});
    theme->role[ROLE_PANEL_FOCUS] = theme_look(theme, level, (Style){yellow, black, A_BOLD | A_UNDERLINE});
    theme->role[ROLE_HEADER] = theme_look(theme, level, (Style){white, blue, A_BOLD});
    theme->role[ROLE_FOOTER] = theme_look(theme, level, (Style){black, white, A_BOLD});
    theme->role[ROLE_FOOTER_KEY] = theme_look(theme, level, (Style){blue, white, A_BOLD});
    /* heat: saturated backgrounds, black text on the light middle */
    static const short HEAT_PRESENTER_256[HEAT_STEPS] = {21, 27, 33, 39, 16, 208, 202, 196, 160};
    static const short HEAT_PRESENTER_8[HEAT_STEPS] = {COLOR_BLUE,   COLOR_BLUE, COLOR_CYAN, COLOR_CYAN, COLOR_BLACK,
                                                       COLOR_YELLOW, COLOR_RED,  COLOR_RED,  COLOR_RED};
    for (int i = 0; i < HEAT_STEPS; i++) {
        short bg = rich ? HEAT_PRESENTER_256[i] : HEAT_PRESENTER_8[i];
        short fg = i == FRAME_HEAT_LEVELS
                       ? white
                       : (bg == (rich ? 39 : COLOR_CYAN) || bg == (rich ? 208 : COLOR_YELLOW) ? black : white);
        theme->value[i] = theme_look(theme, level, (Style){fg, bg, A_BOLD});
        theme->cursor[i] = theme_look(theme, level, (Style){fg, bg, A_BOLD | A_REVERSE});
    }
    theme->role[ROLE_VALUE] = theme->value[FRAME_HEAT_LEVELS];
    theme->role[ROLE_CURSOR] = theme->cursor[FRAME_HEAT_LEVELS];
}

/* The colour-blind-safe theme (--theme colorblind): heat on a blue to
 * orange scale (the pair of hues every common kind of colour blindness
 * still tells apart, unlike red and green), and every distinction marked
 * by weight, underline or reverse video as well: the composer adds a size
 * glyph after each value (ViewOptions.no_color), the three strongest heat
 * levels are bold, sources are bold and underlined, the focused panel's
 * title and code are underlined, the selected line of a list and
 * warnings are in reverse video. */
static void theme_colorblind(Theme *theme, ColorLevel level)
{
    static const short BG_256[HEAT_STEPS] = {25, 32, 110, 153, COLOR_DEFAULT, 223, 215, 208, 130};
    static const short FG_256[HEAT_STEPS] = {231, 231, 16, 16, COLOR_DEFAULT, 16, 16, 16, 231};
    static const short INK_256[HEAT_STEPS] = {19, 25, 32, 67, 16, 172, 166, 130, 94};
    for (int i = 0; i < HEAT_STEPS; i++) {
        int heat = i - FRAME_HEAT_LEVELS; /* the strongest are bold already (heat_value_style) */
        Style value = heat_value_style(level, heat), source = heat_source_style(level, heat);
        if (level == COLOR_LEVEL_256) {
            value.fg = FG_256[i], value.bg = BG_256[i];
            source.fg = INK_256[i];
        }
        theme->value[i] = theme_look(theme, level, value);
        value.attr |= A_REVERSE | A_BOLD;
        theme->cursor[i] = theme_look(theme, level, value);
        source.attr |= A_BOLD | A_UNDERLINE;
        theme->source[i] = theme_look(theme, level, source);
    }
    theme->role[ROLE_VALUE] = theme->value[FRAME_HEAT_LEVELS];
    theme->role[ROLE_CURSOR] = theme->cursor[FRAME_HEAT_LEVELS];
    theme->role[ROLE_SOURCE] = theme->source[FRAME_HEAT_LEVELS];
    theme->role[ROLE_PANEL_FOCUS].attr |= A_BOLD | A_UNDERLINE;
    theme->role[ROLE_CODE].attr = (theme->role[ROLE_CODE].attr & ~A_BOLD) | A_UNDERLINE;
    theme->role[ROLE_OVERLAY_SELECT].attr |= A_REVERSE | A_BOLD;
    theme->role[ROLE_WARNING].attr |= A_REVERSE | A_BOLD;
}

/* The look of one cell: by role, and by heat or letter where they apply.
 * Out-of-range roles and heats are clamped rather than trusted. */
static Look theme_cell_look(const Theme *theme, const Cell *cell)
{
    int heat = cell->heat;
    if (heat < -FRAME_HEAT_LEVELS)
        heat = -FRAME_HEAT_LEVELS;
    if (heat > FRAME_HEAT_LEVELS)
        heat = FRAME_HEAT_LEVELS;
    switch (cell->role) {
    case ROLE_VALUE:
        return theme->value[heat + FRAME_HEAT_LEVELS];
    case ROLE_CURSOR:
        return theme->cursor[heat + FRAME_HEAT_LEVELS];
    case ROLE_SOURCE:
        return theme->source[heat + FRAME_HEAT_LEVELS];
    case ROLE_LETTER:
        return theme->letter[cell->letter % LETTER_COLORS];
    default:
        return cell->role < ROLE_COUNT ? theme->role[cell->role] : theme->role[ROLE_TEXT];
    }
}

/* ------------------------------------------------------------------------
 * Signals: leave the terminal usable however the program ends.
 */

/* True while curses owns the terminal, so a handler knows to call endwin. */
static volatile sig_atomic_t curses_active;

/* Signal numbers run from 1 to SIGRTMAX (a function call in glibc, so not
 * a constant); the dispositions are kept in a table of this many slots. */
#define TUI_SIGNAL_SLOTS 128

/* Whether sig's default action ends the process (terminates it, with or
 * without a core dump) and a handler may be set for it: every signal but
 * SIGKILL and SIGSTOP (which cannot be caught) and those whose default is
 * to be ignored, to stop or to continue (SIGTSTP has its own handler). */
static bool signal_is_fatal(int sig)
{
    switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
        return false;
    default:
        return true;
    }
}

/* The highest signal number the tables cover. */
static int signal_last(void)
{
    int last = SIGRTMAX;
    return last < TUI_SIGNAL_SLOTS ? last : TUI_SIGNAL_SLOTS - 1;
}

/* Restores the terminal, then re-raises sig with its default action so the
 * exit status says which signal ended the program. endwin is not strictly
 * async-signal-safe; like htop we accept that, since the alternative is a
 * terminal left without echo in the alternate screen. */
static void on_fatal_signal(int sig)
{
    if (curses_active) {
        curses_active = 0;
        endwin();
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, sig);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    raise(sig);
}

/* Ctrl-Z: gives the terminal back (endwin), stops with the default action,
 * and once continued (fg) puts this handler back and raises SIGWINCH, so
 * the interrupted get_wch returns KEY_RESIZE with ncurses' idea of the size
 * brought up to date (the terminal may have been resized meanwhile) and the
 * loop re-lays and repaints the whole screen. Replaces ncurses' own SIGTSTP
 * handler, which repaints the old screen at the old size. */
static void on_stop_signal(int sig)
{
    int saved_errno = errno;
    if (curses_active)
        endwin();
    struct sigaction dfl, mine;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, &mine);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, sig);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    raise(sig);
    /* Stopped here until SIGCONT. */
    sigaction(sig, &mine, NULL);
    if (curses_active)
        raise(SIGWINCH);
    errno = saved_errno;
}

/* Saves the disposition of every signal into saved (indexed by number;
 * numbers the system refuses, such as those the C library keeps for
 * itself, are marked with sa_handler SIG_ERR). */
static void signals_save(struct sigaction *saved)
{
    for (int sig = 1; sig <= signal_last(); sig++)
        if (sigaction(sig, NULL, &saved[sig]) != 0)
            saved[sig].sa_handler = SIG_ERR;
}

/* Puts back the dispositions signals_save recorded. */
static void signals_restore(const struct sigaction *saved)
{
    for (int sig = 1; sig <= signal_last(); sig++)
        if (saved[sig].sa_handler != SIG_ERR)
            sigaction(sig, &saved[sig], NULL);
}

/* Installs on_fatal_signal for every signal whose default action ends the
 * process (over the SIGINT and SIGTERM handlers ncurses sets, which exit
 * with status 1 instead of dying of the signal), so SIGUSR1, SIGALRM,
 * SIGPIPE, SIGXCPU and the real-time signals restore the terminal too, and
 * on_stop_signal for SIGTSTP. Signals ignored or handled when the program
 * started (nohup's SIGHUP, main's SIGXFSZ) keep that disposition. Every
 * signal is blocked while a handler runs, so two at once restore the
 * terminal once. No SA_RESTART: a signal interrupts get_wch, so the loop
 * gets to repaint. */
static void signals_install(const struct sigaction *saved)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigfillset(&action.sa_mask);
    for (int sig = 1; sig <= signal_last(); sig++) {
        if (!signal_is_fatal(sig) || saved[sig].sa_handler != SIG_DFL)
            continue;
        action.sa_handler = on_fatal_signal;
        sigaction(sig, &action, NULL);
    }
    sigemptyset(&action.sa_mask);
    action.sa_handler = on_stop_signal;
    if (saved[SIGTSTP].sa_handler != SIG_IGN)
        sigaction(SIGTSTP, &action, NULL);
}

/* ------------------------------------------------------------------------
 * Keys.
 */

/* Turns what get_wch read (status OK for a character, KEY_CODE_YES for a
 * function key) into a KeyCode. Returns false for keys the app has no name
 * for, which are then ignored. */
static bool translate_key(int status, wint_t wch, KeyCode *key)
{
    if (status == KEY_CODE_YES) {
        switch (wch) {
        case KEY_UP:
            *key = KEY_CODE_UP;
            return true;
        case KEY_DOWN:
            *key = KEY_CODE_DOWN;
            return true;
        case KEY_LEFT:
            *key = KEY_CODE_LEFT;
            return true;
        case KEY_RIGHT:
            *key = KEY_CODE_RIGHT;
            return true;
        case KEY_PPAGE:
            *key = KEY_CODE_PAGE_UP;
            return true;
        case KEY_NPAGE:
            *key = KEY_CODE_PAGE_DOWN;
            return true;
        case KEY_HOME:
            *key = KEY_CODE_HOME;
            return true;
        case KEY_END:
            *key = KEY_CODE_END;
            return true;
        case KEY_ENTER:
            *key = KEY_CODE_ENTER;
            return true;
        case KEY_BTAB:
            *key = KEY_CODE_BACK_TAB;
            return true;
        case KEY_BACKSPACE:
            *key = KEY_CODE_BACKSPACE;
            return true;
        case KEY_F(1):
            *key = KEY_CODE_F1;
            return true;
        case KEY_RESIZE:
            *key = KEY_CODE_RESIZE;
            return true;
        default:
            return false;
        }
    }
    switch (wch) {
    case '\r':
    case '\n':
        *key = KEY_CODE_ENTER;
        return true;
    case 27:
        *key = KEY_CODE_ESCAPE;
        return true;
    case '\t':
        *key = KEY_CODE_TAB;
        return true;
    case 8:
    case 127:
        *key = KEY_CODE_BACKSPACE;
        return true;
    default:
        break;
    }
    if (wch >= 1 && wch <= 26) {
        *key = KEY_CTRL('a' + (int)wch - 1);
        return true;
    }
    if (wch < 0x20 || (wch >= 0x80 && wch <= 0x9f) || wch > 0x10ffff)
        return false;
    *key = (KeyCode)wch;
    return true;
}

/* Home and End as terminals really send them, which is not always what
 * TERM's entry says (tmux and screen send ESC [1~ and ESC [4~ whatever TERM
 * is inside; xterm sends ESC [H or ESC OH depending on its mode; rxvt ESC [7~).
 * Binds the ones the terminal description leaves free. */
static void define_extra_keys(void)
{
    static const struct {
        const char *sequence;
        int key;
    } extra[] = {
        {"\033[1~", KEY_HOME}, {"\033[7~", KEY_HOME}, {"\033[H", KEY_HOME}, {"\033OH", KEY_HOME},
        {"\033[4~", KEY_END},  {"\033[8~", KEY_END},  {"\033[F", KEY_END},  {"\033OF", KEY_END},
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (key_defined(extra[i].sequence) == 0)
            define_key(extra[i].sequence, extra[i].key);
}

/* ------------------------------------------------------------------------
 * Painting.
 */

/* The character to show for a cell: the cell's own when the terminal can
 * print it in the width the frame gave it, '?' otherwise (control
 * characters, characters the locale cannot encode, combining marks alone,
 * and wide characters with no empty cell after them). Sets *wide when the
 * character takes two columns. */
static wchar_t printable_char(uint32_t ch, bool room_for_wide, bool *wide)
{
    *wide = false;
    if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch <= 0x9f) || ch > 0x10ffff)
        return L'?';
    if (ch < 0x7f)
        return (wchar_t)ch;
    int width = wcwidth((wchar_t)ch);
    if (width == 1)
        return (wchar_t)ch;
    if (width == 2 && room_for_wide) {
        *wide = true;
        return (wchar_t)ch;
    }
    return L'?';
}

/* Draws frame into stdscr (rows x cols, the window's size) and shows it
 * with one refresh. Cells with ch 0 after a wide character are its right
 * half and are skipped. */
static void paint(const Frame *frame, const Theme *theme, int rows, int cols, int *cursor_visibility)
{
    int draw_rows = frame->rows < rows ? frame->rows : rows;
    int draw_cols = frame->cols < cols ? frame->cols : cols;
    for (int r = 0; r < draw_rows; r++) {
        const Cell *line = &frame->cells[r * frame->cols];
        bool right_half = false;
        for (int c = 0; c < draw_cols; c++) {
            const Cell *cell = &line[c];
            if (cell->ch == 0 && right_half) {
                right_half = false;
                continue;
            }
            bool room = c + 1 < draw_cols && line[c + 1].ch == 0;
            bool wide = false;
            wchar_t text[2] = {L' ', L'\0'};
            if (cell->ch != 0)
                text[0] = printable_char(cell->ch, room, &wide);
            Look look = theme_cell_look(theme, cell);
            cchar_t cc;
            setcchar(&cc, text, look.attr, look.pair, NULL);
            mvadd_wch(r, c, &cc);
            right_half = wide;
        }
    }
    int want = frame->cursor_row >= 0 && frame->cursor_row < draw_rows && frame->cursor_col >= 0 &&
                       frame->cursor_col < draw_cols
                   ? 1
                   : 0;
    if (want != *cursor_visibility && curs_set(want) != ERR)
        *cursor_visibility = want;
    if (want)
        move(frame->cursor_row, frame->cursor_col);
    leaveok(stdscr, want ? FALSE : TRUE);
    refresh();
}

/* ------------------------------------------------------------------------
 * Start, loop, stop.
 */

/* Fills theme for the curses screen just started: the colours the
 * terminal has (none with --no-color), then the presenter's contrast when
 * asked for. Allocates the colour pairs it uses. */
static void theme_setup(Theme *theme, const TuiOptions *opts)
{
    ColorLevel level = COLOR_LEVEL_NONE;
    bool default_colors = false;
    if (!opts->no_color && has_colors() && start_color() != ERR) {
        default_colors = use_default_colors() != ERR;
        level = COLORS >= 256 ? COLOR_LEVEL_256 : COLORS >= 8 ? COLOR_LEVEL_8 : COLOR_LEVEL_NONE;
    }
    theme_build(theme, level, default_colors, false);
    if (opts->presenter)
        theme_presenter(theme, level);
    if (opts->colorblind)
        theme_colorblind(theme, level);
}

/* The marks of a look's attributes, as tui_frame_marks counts them. */
static unsigned look_marks(Look look)
{
    return ((look.attr & A_BOLD) != 0 ? TUI_MARK_BOLD : 0u) |
           ((look.attr & A_UNDERLINE) != 0 ? TUI_MARK_UNDERLINE : 0u) |
           ((look.attr & A_REVERSE) != 0 ? TUI_MARK_REVERSE : 0u) | ((look.attr & A_DIM) != 0 ? TUI_MARK_DIM : 0u);
}

/* A theme as theme_setup would make it for a terminal of `colors` colours
 * (256, 8 or 0), without a curses screen: its attributes are right, its
 * pairs are all 0. */
static void theme_dry(Theme *theme, const TuiOptions *opts, int colors)
{
    ColorLevel level = opts->no_color || colors < 8 ? COLOR_LEVEL_NONE
                       : colors >= 256              ? COLOR_LEVEL_256
                                                    : COLOR_LEVEL_8;
    theme_build(theme, level, true, true);
    if (opts->presenter)
        theme_presenter(theme, level);
    if (opts->colorblind)
        theme_colorblind(theme, level);
}

unsigned tui_cell_marks(const Cell *cell, const TuiOptions *opts, int colors)
{
    static Theme theme;
    theme_dry(&theme, opts, colors);
    return look_marks(theme_cell_look(&theme, cell));
}

void tui_frame_marks(const Frame *frame, const TuiOptions *opts, int colors, StrBuf *out)
{
    static Theme theme;
    theme_dry(&theme, opts, colors);
    for (int r = 0; r < frame->rows; r++) {
        for (int c = 0; c < frame->cols; c++) {
            unsigned marks = look_marks(theme_cell_look(&theme, &frame->cells[r * frame->cols + c]));
            strbuf_append(out, marks == 0 ? "." : &"0123456789abcdef"[marks], 1);
        }
        strbuf_puts(out, "\n");
    }
}

/* Everything tui_run sets up, so one function can take it down. */
typedef struct Tui {
    SCREEN *screen;
    Theme theme;                              /* the looks of the roles on this terminal (tui_start) */
    FILE *tty;                                /* /dev/tty when stdin or stdout is redirected, else NULL; owned */
    int old_cursor;                           /* visibility before we hid it, or ERR */
    struct sigaction saved[TUI_SIGNAL_SLOTS]; /* dispositions before newterm, by signal number */
} Tui;

/* Closes the /dev/tty tui_start may have opened. */
static void tui_close_tty(Tui *tui)
{
    if (tui->tty != NULL)
        fclose(tui->tty);
    tui->tty = NULL;
}

/* Whether the environment variable name is set to something curses
 * cannot take as a screen size: not a plain number, or more than
 * TUI_MAX_ENV_SIZE (ncurses keeps sizes in a short). */
static bool env_size_bad(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || value[0] == '\0')
        return false;
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    return errno != 0 || *end != '\0' || n < 0 || n > TUI_MAX_ENV_SIZE;
}

/* Writes into cause (size bytes) why newterm failed, the reason shown
 * after "cannot start the terminal UI: ". newterm says only NULL, and its
 * usual reason is a terminal type terminfo does not know, but a process
 * out of file descriptors cannot open the terminfo file either, and a
 * COLUMNS or LINES curses cannot hold makes it fail as well: those are
 * checked first, so the message names the real cause. saved_errno is
 * errno after newterm. */
static void newterm_cause(const char *term, int saved_errno, char *cause, size_t size)
{
    if (saved_errno == EMFILE || saved_errno == ENFILE || saved_errno == ENOMEM) {
        snprintf(cause, size, "%s", strerror(saved_errno));
        return;
    }
    /* terminfo needs a descriptor to read the entry with (two, to be safe) */
    int probe[2] = {open("/dev/null", O_RDONLY | O_CLOEXEC), -1};
    int probe_errno = errno;
    if (probe[0] >= 0)
        probe[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe[1] < 0 && probe[0] >= 0)
        probe_errno = errno;
    bool no_fd = probe[1] < 0;
    for (int i = 0; i < 2; i++)
        if (probe[i] >= 0)
            close(probe[i]);
    if (no_fd) {
        snprintf(cause, size, "no file descriptor is free to read the terminal description (%s; see ulimit -n)",
                 strerror(probe_errno));
        return;
    }
    if (env_size_bad("COLUMNS") || env_size_bad("LINES")) {
        const char *columns = getenv("COLUMNS"), *lines = getenv("LINES");
        snprintf(cause, size,
                 "curses cannot use the screen size COLUMNS=%.20s LINES=%.20s (unset them, or give the "
                 "terminal's size)",
                 columns != NULL ? columns : "", lines != NULL ? lines : "");
        return;
    }
    snprintf(cause, size, "unknown terminal type \"%s\" (TERM)", term);
}

/* Sets up curses on the terminal (stdin and stdout, or /dev/tty when
 * either is redirected) and fills tui->theme. Returns false with err set,
 * leaving the terminal as it was, when the terminal cannot be used. */
static bool tui_start(Tui *tui, const TuiOptions *opts, Error *err)
{
    const char *term = getenv("TERM");
    if (term == NULL || term[0] == '\0')
        return error_set(err, STATUS_FAILURE, "cannot start the terminal UI: TERM is not set");
    FILE *in = stdin, *out = stdout;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        /* Redirected (--tui > file): the UI goes to the controlling
         * terminal, as less and fzf do, and stdout stays untouched. */
        tui->tty = fopen("/dev/tty", "r+");
        if (tui->tty == NULL)
            return error_set(err, STATUS_FAILURE, "cannot start the terminal UI: no terminal (/dev/tty: %s)",
                             strerror(errno));
        in = out = tui->tty;
    }
    fflush(stdout);
    signals_save(tui->saved);
    errno = 0;
    tui->screen = newterm(NULL, out, in);
    if (tui->screen == NULL) {
        int newterm_errno = errno;
        signals_restore(tui->saved);
        tui_close_tty(tui);
        char cause[TUI_CAUSE_BYTES];
        newterm_cause(term, newterm_errno, cause, sizeof cause);
        return error_set(err, STATUS_FAILURE, "cannot start the terminal UI: %s", cause);
    }
    static char cursor_address_cap[] = "cup";
    const char *cup = tigetstr(cursor_address_cap);
    if (cup == NULL || cup == (const char *)-1) {
        endwin();
        delscreen(tui->screen);
        signals_restore(tui->saved);
        tui_close_tty(tui);
        return error_set(err, STATUS_FAILURE,
                         "cannot start the terminal UI: terminal type \"%s\" (TERM) cannot move the cursor", term);
    }
    curses_active = 1;
    signals_install(tui->saved);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    define_extra_keys();
    if (getenv("ESCDELAY") == NULL)
        set_escdelay(TUI_ESCAPE_DELAY_MS);
    tui->old_cursor = curs_set(0);

    theme_setup(&tui->theme, opts);
    return true;
}

/* Gives the terminal back: the cursor, the modes and the normal screen. */
static void tui_stop(Tui *tui)
{
    if (tui->old_cursor != ERR)
        curs_set(tui->old_cursor);
    endwin();
    curses_active = 0;
    delscreen(tui->screen);
    signals_restore(tui->saved);
    tui_close_tty(tui);
}

/* Hands what get_wch read (got, wch) to the app as a key, at the
 * window's current size; keys the app has no name for are dropped.
 * Returns false when the key quits. */
static bool handle_read(App *app, int got, wint_t wch)
{
    KeyCode key;
    if (!translate_key(got, wch, &key))
        return true;
    if (key == KEY_CODE_RESIZE || key == KEY_CTRL('l'))
        clearok(curscr, TRUE);
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    return app_handle_key(app, key, rows, cols);
}

/* Handles the keys already typed, without waiting (at most
 * TUI_MAX_KEYS_PER_FRAME), so a paste is taken in whole before the next
 * paint instead of one paint per character; what a quiz answer has no room
 * for is dropped by the app as it comes. Returns false when a key quits. */
static bool drain_typed(App *app)
{
    timeout(0);
    for (int i = 0; i < TUI_MAX_KEYS_PER_FRAME; i++) {
        wint_t wch = 0;
        int got = get_wch(&wch);
        if (got == ERR)
            break;
        if (!handle_read(app, got, wch))
            return false;
    }
    return true;
}

int tui_run(App *app, const TuiOptions *opts, Error *err)
{
    Tui tui;
    memset(&tui, 0, sizeof tui);
    if (!tui_start(&tui, opts, err))
        return STATUS_FAILURE;

    Frame frame = {0};
    int status = STATUS_OK;
    int cursor_visibility = 0;
    int read_failures = 0;
    for (;;) {
        /* Lay out and paint the screen at the terminal's current size. */
        int rows, cols;
        getmaxyx(stdscr, rows, cols);
        if (rows < 1)
            rows = 1;
        if (cols < 1)
            cols = 1;
        if (frame.cells == NULL || frame.rows != rows || frame.cols != cols) {
            frame_free(&frame);
            if (!frame_init(&frame, rows, cols)) {
                error_oom(err, "the screen");
                status = STATUS_FAILURE;
                break;
            }
        } else {
            frame_clear(&frame);
        }
        app_compose(app, &frame);
        paint(&frame, &tui.theme, rows, cols, &cursor_visibility);

        /* Wait for a key (or, during autoplay, for the next tick) and hand
         * it to the app. */
        wint_t wch = 0;
        int tick_ms = app_tick_ms(app);
        timeout(tick_ms);
        errno = 0;
        int got = get_wch(&wch);
        if (got == ERR && tick_ms >= 0 && errno != EINTR) {
            app_tick(app, rows, cols);
            continue;
        }
        if (got == ERR) {
            /* A signal (SIGCONT after Ctrl-Z, say) interrupted the read:
             * repaint everything. Many failures in a row: input is gone. */
            if (errno != EINTR && ++read_failures >= TUI_MAX_READ_FAILURES) {
                error_set(err, STATUS_FAILURE, "the terminal input was closed");
                status = STATUS_FAILURE;
                break;
            }
            clearok(curscr, TRUE);
            continue;
        }
        read_failures = 0;
        if (!handle_read(app, got, wch) || !drain_typed(app))
            break;
    }
    frame_free(&frame);
    tui_stop(&tui);
    return status;
}

/* ------------------------------------------------------------------------
 * The frame benchmark: the real composer and painter, output to /dev/null.
 */

static double tui_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

long tui_bench_frames(App *app, const TuiOptions *opts, const KeyCode *keys, size_t n_keys, int rows, int cols,
                      double *frame_ms, int *frame_step, Error *err)
{
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    if (out == NULL || in == NULL) {
        if (out != NULL)
            fclose(out);
        if (in != NULL)
            fclose(in);
        error_set(err, STATUS_FAILURE, "--bench-frames: cannot open /dev/null: %s", strerror(errno));
        return -1;
    }
    const char *term = getenv("TERM");
    static char fallback[] = "xterm-256color";
    SCREEN *screen = NULL;
    if (term != NULL && term[0] != '\0')
        screen = newterm(term, out, in);
    if (screen == NULL)
        screen = newterm(fallback, out, in);
    if (screen == NULL) {
        fclose(out);
        fclose(in);
        error_set(err, STATUS_FAILURE, "--bench-frames: curses cannot start (no terminfo for $TERM or xterm-256color)");
        return -1;
    }
    resize_term(rows, cols);
    Theme theme; /* a local: the frames are painted before this returns */
    theme_setup(&theme, opts);

    Frame frame = {0};
    long timed = -1;
    int cursor_visibility = 0;
    if (frame_init(&frame, rows, cols)) {
        timed = 0;
        for (size_t i = 0; i <= n_keys; i++) {
            double start = tui_clock_ms();
            if (i > 0 && !app_handle_key(app, keys[i - 1], rows, cols))
                break;
            frame_clear(&frame);
            app_compose(app, &frame);
            paint(&frame, &theme, rows, cols, &cursor_visibility);
            frame_ms[timed] = tui_clock_ms() - start;
            frame_step[timed++] = app_step(app);
        }
        frame_free(&frame);
    } else {
        error_oom(err, "the screen");
    }
    endwin();
    delscreen(screen);
    fclose(out);
    fclose(in);
    return timed;
}
