/*
 * plugins/frontends/manage/inputargs.h - the arguments of the CLI's input
 * and display actions (`controlvm VM keyboardputscancode HEX...`,
 * `keyboardputstring TEXT...`, `keyboardputfile FILE`, `setvideomodehint W
 * H BPP [DISPLAY [ENABLED [X Y]]]`), parsed into what IKeyboard and
 * IDisplay take.
 *
 * Pure, as opts.h and args.h: no IPC, no service, no output. Errors are
 * CAP_E_INVALIDARG with the thread's error info naming the action, the
 * argument (by its number after the action) and what it should be.
 */
#ifndef CAPSULE_MANAGE_INPUTARGS_H
#define CAPSULE_MANAGE_INPUTARGS_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/capsule.h>

/*
 * Scancodes as bytes in hexadecimal, one an argument: "1e", "9E", "0xe0"
 * (one or two hex digits, with or without 0x). out[0..argc) gets them.
 * "keyboardputscancode: argument 2 ('zz') is not a scancode: ..." otherwise,
 * and a usage error for none at all.
 */
cap_result cli_parse_scancodes(int argc, char *const *argv, int32_t *out);

/*
 * The arguments joined with one space between them (as VBoxManage's
 * keyboardputstring does): a new string to cap_str_free, or NULL when out
 * of memory.
 */
char *cli_join_words(int argc, char *const *argv);

/*
 * The length in bytes of the first piece of `text` to send in one call:
 * all of it if it is at most `max` bytes, else at most `max` bytes ending
 * at a character boundary (a UTF-8 sequence is never split).
 */
size_t cli_text_piece(const char *text, size_t max);

/* setvideomodehint's arguments, in IDisplay's setVideoModeHint's terms. */
struct cli_video_hint {
    uint32_t width, height, bpp, display;
    int enabled, change_origin;
    int32_t x, y;
};

/*
 * "W H BPP [DISPLAY [ENABLED [X Y]]]": W and H in pixels (1 to 32768), BPP
 * 8, 15, 16, 24 or 32, DISPLAY from 0, ENABLED yes/no (on/off, true/false,
 * 1/0), X and Y together (the new origin; change_origin set). Defaults:
 * display 0, enabled, origin unchanged.
 */
cap_result cli_parse_video_hint(int argc, char *const *argv, struct cli_video_hint *out);

#endif /* CAPSULE_MANAGE_INPUTARGS_H */
