/// @file
/// @brief `Bytes`: an owned, heap-allocated byte buffer for received messages.
///
/// `Recv` hands each message over as `Bytes`. Unlike `std::string` it can grow
/// without zero-filling or copying (large buffers grow in place with
/// `realloc`/`mremap`), so receiving an S-byte message costs about S bytes of
/// memory, and its storage can be handed to C callers (`Release`) without a copy.
///
/// @code
///   tubo::Bytes b = tubo::Bytes::Copy("hello");
///   std::string_view v = b.view();
///   std::string s = b.str();
/// @endcode
#ifndef TUBO_BYTES_H_
#define TUBO_BYTES_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstddef>
#include <string>
#include <string_view>

namespace tubo {

/// @brief An owned, contiguous sequence of bytes.
///
/// Storage comes from `malloc`; an empty `Bytes` may hold no storage at all
/// (`data()` may then be null). Copying copies the bytes; moving is cheap and
/// leaves the source empty. Thread-safety: like `std::string`.
class Bytes {
 public:
  /// An empty buffer.
  Bytes() = default;
  /// Frees the storage.
  ~Bytes();
  /// Copies the bytes of `other`.
  Bytes(const Bytes& other);
  /// Replaces the contents with a copy of `other`'s bytes.
  Bytes& operator=(const Bytes& other);
  /// Takes `other`'s storage; `other` becomes empty.
  Bytes(Bytes&& other) noexcept;
  /// Frees the current storage and takes `other`'s; `other` becomes empty.
  Bytes& operator=(Bytes&& other) noexcept;

  /// Returns a buffer holding a copy of `bytes`. Throws `std::bad_alloc` if
  /// memory is exhausted.
  static Bytes Copy(std::string_view bytes);

  /// Takes ownership of `size` bytes at `data`, which must come from `malloc`
  /// (or be null when `size` is 0); they will be released with `free`.
  static Bytes Adopt(char* data, size_t size);

  /// The first byte, or possibly null if `size() == 0`.
  const char* data() const { return data_; }
  /// The first byte, for writing in place, or possibly null if `size() == 0`.
  char* data() { return data_; }
  /// The number of bytes.
  size_t size() const { return size_; }
  /// True if there are no bytes.
  bool empty() const { return size_ == 0; }
  /// Iterator to the first byte.
  const char* begin() const { return data_; }
  /// Iterator past the last byte.
  const char* end() const { return data_ + size_; }

  /// A view of the bytes, valid until this buffer is changed or destroyed.
  std::string_view view() const { return std::string_view(data_, size_); }
  /// Same as `view()`.
  operator std::string_view() const { return view(); }
  /// A copy of the bytes as a `std::string`.
  std::string str() const { return std::string(data_, size_); }

  /// Gives up the storage: returns the `malloc`ed pointer (null if none), which
  /// the caller must `free`, and leaves this buffer empty. Read `size()` first.
  char* Release();

  /// True if both hold the same bytes.
  friend bool operator==(const Bytes& a, const Bytes& b) { return a.view() == b.view(); }
  /// True if the bytes differ.
  friend bool operator!=(const Bytes& a, const Bytes& b) { return !(a == b); }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tubo

#endif  // TUBO_BYTES_H_
