/**
 * @file
 * @brief The worker side of the channel hand-off (contract 2): take the ends a
 * spawner passed by name.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_CHANNEL_H_
#define TUBO_CAPI_TUBO_CHANNEL_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Worker side: channels (contract 2)                                       */
/* ------------------------------------------------------------------------ */

/**
 * @brief Takes the channel `name` (borrowed string) passed by the spawner as a read end.
 *
 * Each name can be taken once per process. Thread-safe.
 *
 * @param out receives the end (caller frees it).
 * @param name the channel's name (borrowed string).
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK`, `TUBO_E_CHANNEL` (malformed `TUBO_CHANNELS`, missing or
 *   taken name, wrong mode, fd not open), `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_channel_take_read_end(tubo_end **out, const char *name, tubo_error **err);

/** @brief Takes the channel `name` as a write end (mode `w`). See `tubo_channel_take_read_end`. */
int tubo_channel_take_write_end(tubo_end **out, const char *name, tubo_error **err);

/** @brief Takes the channel `name` as a duplex end (mode `rw`). See `tubo_channel_take_read_end`.
 */
int tubo_channel_take_duplex_end(tubo_end **out, const char *name, tubo_error **err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_CHANNEL_H_ */
