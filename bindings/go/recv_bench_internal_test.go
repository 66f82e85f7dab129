package tubo

import (
	"fmt"
	"testing"
)

// Receiving a large message straight into a Go slice of its announced size
// (direct) against the library's growing buffer copied into Go memory
// (growing): the cost recvDirectMax trades against memory that follows arrival.
func BenchmarkRecvLarge(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20, 8 << 20} {
		for _, mode := range []string{"direct", "growing"} {
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, mode), func(b *testing.B) {
				saved := recvDirectLimit
				defer func() { recvDirectLimit = saved }()
				if mode == "direct" {
					recvDirectLimit = 1 << 40
				} else {
					recvDirectLimit = 0
				}
				r, w, err := Pipe()
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				defer w.Close()
				msg := make([]byte, size)
				done := make(chan error, 1)
				go func() {
					for i := 0; i < b.N; i++ {
						if err := w.Send(msg); err != nil {
							done <- err
							return
						}
					}
					done <- nil
				}()
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := r.Recv(); err != nil {
						b.Fatal(err)
					}
				}
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
