package tubo

/*
#include <stdlib.h>
#include "tubo.h"
*/
import "C"

import "unsafe"

// The worker side of the channel hand-off (contract 2): taking the ends a
// spawner passed to this process.

// TakeReadEnd takes the channel name that the spawner passed to this worker
// (TUBO_CHANNELS) as a read end. Each name can be taken once. ErrChannel
// when the variable is malformed, the name missing or taken, the mode not
// "r", or the descriptor not open.
func TakeReadEnd(name string) (*End, error) { return takeChannel(name, ReadEnd) }

// TakeWriteEnd takes the channel name as a write end (mode "w"). See TakeReadEnd.
func TakeWriteEnd(name string) (*End, error) { return takeChannel(name, WriteEnd) }

// TakeDuplexEnd takes the channel name as a duplex end (mode "rw"). See TakeReadEnd.
func TakeDuplexEnd(name string) (*End, error) { return takeChannel(name, DuplexEnd) }

func takeChannel(name string, kind EndKind) (*End, error) {
	if versionErr != nil {
		return nil, versionErr
	}
	cname, err := cString("channel name", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cname))
	var h *C.tubo_end
	var cerr *C.tubo_error
	var rc C.int
	switch kind {
	case ReadEnd:
		rc = C.tubo_channel_take_read_end(&h, cname, &cerr)
	case WriteEnd:
		rc = C.tubo_channel_take_write_end(&h, cname, &cerr)
	default:
		rc = C.tubo_channel_take_duplex_end(&h, cname, &cerr)
	}
	if err := takeError(rc, cerr); err != nil {
		return nil, err
	}
	return newEnd(h), nil
}
