// The account a library call gives of its work: the lines the command line prints
// (headers, tables, summaries), built as text. A call prints nothing: the command
// line writes the text to standard output, the Python package returns it, and a
// receiver may take each piece as it is written (a long call's account as it goes).
#pragma once

#include <cstdarg>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

namespace iclcert::api {

using AccountReceiver = std::function<void(const std::string& piece)>;

class Account {
 public:
  explicit Account(AccountReceiver receiver = {}) : receiver_(std::move(receiver)) {}

  // printf's format, appended to the text (and given to the receiver).
  [[gnu::format(printf, 2, 3)]] void print(const char* format, ...) {
    va_list args;
    va_start(args, format);
    va_list again;
    va_copy(again, args);
    const int n = std::vsnprintf(nullptr, 0, format, args);
    va_end(args);
    std::string piece(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
    if (n > 0) std::vsnprintf(piece.data(), piece.size() + 1, format, again);
    va_end(again);
    text_ += piece;
    if (receiver_ && !piece.empty()) receiver_(piece);
  }
  const std::string& text() const { return text_; }

 private:
  AccountReceiver receiver_;
  std::string text_;
};

}  // namespace iclcert::api
