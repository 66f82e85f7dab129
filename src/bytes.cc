// Owned byte buffers.
#include "tubo/bytes.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace tubo {

Bytes::~Bytes() { std::free(data_); }

Bytes::Bytes(const Bytes& other) : Bytes(Copy(other.view())) {}

Bytes& Bytes::operator=(const Bytes& other) {
  if (this != &other) *this = Copy(other.view());
  return *this;
}

Bytes::Bytes(Bytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Bytes& Bytes::operator=(Bytes&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Bytes Bytes::Copy(std::string_view bytes) {
  Bytes b;
  if (bytes.empty()) return b;
  b.data_ = static_cast<char*>(std::malloc(bytes.size()));
  if (b.data_ == nullptr) throw std::bad_alloc();
  std::memcpy(b.data_, bytes.data(), bytes.size());
  b.size_ = bytes.size();
  return b;
}

Bytes Bytes::Adopt(char* data, size_t size) {
  Bytes b;
  b.data_ = data;
  b.size_ = data == nullptr ? 0 : size;
  return b;
}

char* Bytes::Release() {
  size_ = 0;
  return std::exchange(data_, nullptr);
}

}  // namespace tubo
