#include "io/cleanup.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace iclcert {
namespace {

enum : int { kFree = 0, kFilling = 1, kActive = 2 };

std::atomic<int> slot_state[kCleanupSlots];
char slot_path[kCleanupSlots][kCleanupPathBytes];

// The entries directly in `dir` (staging directories hold files only), with the
// raw getdents64 system call: readdir may allocate, which a handler must not.
void remove_directory_contents(const char* dir) {
  const int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buffer[4096];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, fd, buffer, sizeof buffer);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[].
      unsigned short reclen;
      std::memcpy(&reclen, buffer + at + 16, sizeof reclen);
      const char* name = buffer + at + 19;
      if (std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0) ::unlinkat(fd, name, 0);
      at += reclen;
    }
  }
  ::close(fd);
}

void remove_registered() {
  for (int i = 0; i < kCleanupSlots; ++i) {
    if (slot_state[i].load(std::memory_order_acquire) != kActive) continue;
    const char* path = slot_path[i];
    if (::unlink(path) != 0 && (errno == EISDIR || errno == EPERM)) {
      remove_directory_contents(path);
      ::rmdir(path);
    }
  }
}

extern "C" void on_terminating_signal(int sig) {
  remove_registered();
  ::_exit(128 + sig);
}

}  // namespace

int register_cleanup(const std::string& path) {
  if (path.empty() || path.size() >= static_cast<std::size_t>(kCleanupPathBytes)) return -1;
  for (int i = 0; i < kCleanupSlots; ++i) {
    int expected = kFree;
    if (!slot_state[i].compare_exchange_strong(expected, kFilling, std::memory_order_acq_rel)) continue;
    std::memcpy(slot_path[i], path.c_str(), path.size() + 1);
    slot_state[i].store(kActive, std::memory_order_release);
    return i;
  }
  return -1;
}

void unregister_cleanup(int slot) {
  if (slot >= 0 && slot < kCleanupSlots) slot_state[slot].store(kFree, std::memory_order_release);
}

void install_signal_cleanup() {
  struct sigaction action {};
  action.sa_handler = on_terminating_signal;
  sigemptyset(&action.sa_mask);
  // A second signal during the cleanup waits: the first one's cleanup finishes.
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&action.sa_mask, s);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(s, nullptr, &old);
    // A signal ignored by whoever started us (nohup, a background job) stays ignored.
    if (old.sa_handler == SIG_IGN) continue;
    ::sigaction(s, &action, nullptr);
  }
}

}  // namespace iclcert
