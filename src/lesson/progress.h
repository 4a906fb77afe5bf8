/*
 * progress.h - where a learner stopped in each lesson, and how their
 * quizzes went, kept between runs.
 *
 * Each lesson's progress is one small text file, <key>.progress, in the
 * directory progress_dir names ($XDG_STATE_HOME/attn-trace, by default
 * ~/.local/state/attn-trace). The key (progress_key) joins a hash of the
 * lesson's name and a hash of its walk (step ids and quizzes), so fixing a
 * typo keeps the progress, the built-in lesson and lessons/article.lesson
 * share one, and a save removes the file of the lesson's older walk.
 *
 * File format, version 1 (every line ends in '\n'; nothing else may appear):
 *
 *     attn-trace-progress 1
 *     key: 3f2a0c9d11b7e805-c0ffee0000000001
 *     last_step: 4
 *     quizzes: F T S U R
 *     updated: 1732434000
 *     end
 *
 * quizzes lists one letter per quiz, in the lesson's order, each after one
 * space (none: "quizzes:"): U unanswered, F right at the first try, T right
 * after more tries, S skipped, R answer revealed. The "end" line shows the
 * file was written whole. Loading parses strictly: any other text, a
 * number out of its range, another version or key makes the file unusable.
 *
 * Progress is never a reason to refuse to run: a missing or unusable file
 * loads as "nothing saved" (an unusable one also fails with an Error that
 * the caller shows as a one-line warning),
 * and saving is atomic, so a crash or kill during a save leaves the old
 * file whole. progress_save_merged merges what is on disk (two windows lose
 * nothing), and no save replaces a file it cannot read.
 */
#ifndef ATTN_PROGRESS_H
#define ATTN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PROGRESS_FORMAT_VERSION 1
/* PROGRESS_MAX_* and PROGRESS_KEY_BYTES are in attn_limits.h. */

typedef enum QuizResult {
    QUIZ_UNANSWERED,        /* not asked yet, or left without an answer ('U') */
    QUIZ_RIGHT_FIRST_TRY,   /* answered right at the first try ('F') */
    QUIZ_RIGHT_AFTER_TRIES, /* answered right after wrong tries ('T') */
    QUIZ_SKIPPED,           /* skipped by the learner ('S') */
    QUIZ_REVEALED           /* the learner asked to see the answer ('R') */
} QuizResult;

typedef struct Progress {
    char lesson_key[PROGRESS_KEY_BYTES];      /* identifies the lesson: see progress_key */
    int last_step;                            /* step the learner was on (0-based, in the lesson's walk) */
    int n_quizzes;                            /* entries used in quizzes, 0..PROGRESS_MAX_QUIZZES */
    QuizResult quizzes[PROGRESS_MAX_QUIZZES]; /* in the lesson's order of quizzes */
    long long updated;                        /* seconds since the epoch it was saved at; 0..PROGRESS_MAX_UPDATED */
} Progress;

/* Writes into key (size bytes, NUL-terminated, cut to fit) the key of the
 * lesson at lesson_path whose walk has hash walk_hash (Lesson.walk_hash:
 * its step ids and each step's quizzes, not the file's bytes):
 * "PPPPPPPPPPPPPPPP-CCCCCCCCCCCCCCCC", 16 lowercase hex digits of the
 * FNV-1a 64 hash of the lesson's name (the last part of lesson_path,
 * without ".lesson": "article" for lessons/article.lesson and for the
 * built-in "builtin:lessons/article.lesson"), a '-', then 16 of walk_hash.
 * The key is 33 characters (34 bytes with the NUL) and a safe file name.
 * One lesson keeps one progress wherever its file is, and a typo fixed in
 * its text keeps it; adding, removing or moving a step or a quiz gives
 * another key. lesson_path must not be NULL. */
void progress_key(const char *lesson_path, uint64_t walk_hash, char *key, size_t size);

/* Writes into buf (size bytes) the directory progress is kept in:
 * $XDG_STATE_HOME/attn-trace, or $HOME/.local/state/attn-trace when
 * XDG_STATE_HOME is unset, empty or relative (the XDG spec says relative
 * ones are to be ignored). HOME is used only when absolute. Returns true;
 * or false with err (STATUS_FAILURE) when neither variable is usable or buf
 * is too small. The directory is not created here (progress_save does). */
bool progress_dir(char *buf, size_t size, Error *err);

/* Loads the progress of key (a key from progress_key) from dir into *out.
 * Returns true when there is no file (*found false) or a usable one
 * (*found true, *out filled in). When there is no usable progress, *out is
 * zeroed except for lesson_key, which is set to key (when key is valid),
 * so that it is a fresh start to use as it is.
 *
 * Returns false, with err, when a file is there but unusable: err's
 * message is one printable line, "ignoring saved progress in PATH: REASON",
 * and its status STATUS_NOINPUT (unreadable, not a regular file, too large),
 * STATUS_DATAERR (truncated, garbage, of another format version, for
 * another key, a number out of range) or STATUS_FAILURE (an invalid key, a
 * path too long). This failure is a warning to the caller, not a reason to
 * stop: *out and *found are still valid (a fresh start), the caller prints
 * the message and goes on; the next progress_save replaces a damaged file
 * (STATUS_DATAERR) but refuses to touch an unreadable one (STATUS_NOINPUT).
 * Temporary files of interrupted saves are never read. */
bool progress_load(const char *dir, const char *key, Progress *out, bool *found, Error *err);

/* Parses data[0..len), the bytes of a progress file, as the file for key
 * (strictly, as progress_load does) into *out. Returns true when it is
 * usable; otherwise false with the reason, one printable line, in why
 * (why_size bytes). Never reads past data + len. */
bool progress_parse(const char *data, size_t len, const char *key, Progress *out, char *why, size_t why_size);

/* Combines other (the same lesson's progress, saved by another window)
 * into *into, so neither loses what the learner did: each quiz keeps the
 * result that says more (right at the first try > right after tries >
 * revealed > skipped > unanswered), so an answered quiz stays answered,
 * and n_quizzes becomes the larger one; with furthest_step, the larger
 * last_step wins too. */
void progress_merge(Progress *into, const Progress *other, bool furthest_step);

/* Saves progress as dir/<progress->lesson_key>.progress, atomically:
 * creates dir (and its parents, mode 0700) when needed, writes a temporary
 * file in dir (mode 0600), fsyncs it, renames it over the old file and
 * fsyncs dir. progress->updated is written as given, or as the current time
 * when it is 0. Temporary files left in dir by saves of this key that were
 * killed (their process is gone) are removed first. On failure - dir cannot
 * be made or written, the disk is full, progress is out of range (an
 * invalid key, last_step, n_quizzes or result) - returns false with err
 * (STATUS_FAILURE, "cannot save progress in DIR: reason"), removes its
 * temporary file and leaves any old file whole.
 *
 * A file that is there but cannot be read (no permission, an I/O error)
 * is never replaced: the save fails with "cannot save progress: PATH
 * exists but cannot open it: reason: it is left as it is". One that reads
 * but is damaged is replaced. */
bool progress_save(const char *dir, const Progress *progress, Error *err);

/* As progress_save, for a window that may not be alone on the lesson:
 * the file as it is now is read again and merged in first (progress_merge),
 * so what another window saved is kept. Every quiz keeps its best result;
 * when the file differs from base (what this window last loaded or saved;
 * NULL when nothing) another window wrote it, and the furthest step wins
 * too, else this window's step is written as it is (going back works).
 * *written (not NULL) gets what the file now holds, the base of the next
 * save. Two saves in the same instant can still race (no lock is taken):
 * the later rename wins that one save, and the next save merges again. */
bool progress_save_merged(const char *dir, const Progress *progress, const Progress *base, Progress *written,
                          Error *err);

/* Deletes the progress of key from dir (for --restart), and the temporary
 * files of killed saves of that key. Returns true when there is none
 * afterwards (no file, or no dir, is not an error); otherwise false with err
 * (STATUS_FAILURE, "cannot forget progress in DIR: reason"). */
bool progress_forget(const char *dir, const char *key, Error *err);

#endif
