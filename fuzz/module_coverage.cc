#include "fuzz/module_coverage.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace shadowheap::fuzz {
namespace {

// The address (relative to the load base) and size of the section `name` in the ELF file at
// `path`, read from its section headers; {0, 0} if it has none.
std::pair<std::uint64_t, std::uint64_t> section(const char* path, const char* name) {
  std::pair<std::uint64_t, std::uint64_t> found{0, 0};
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return found;
  struct stat st;
  void* map = fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(sizeof(Elf64_Ehdr))
                  ? mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
                  : MAP_FAILED;
  close(fd);
  if (map == MAP_FAILED) return found;
  const auto* base = static_cast<const unsigned char*>(map);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  const bool elf64 = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
                     eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_shentsize == sizeof(Elf64_Shdr);
  if (elf64 && eh->e_shoff < size && eh->e_shnum * sizeof(Elf64_Shdr) <= size - eh->e_shoff &&
      eh->e_shstrndx < eh->e_shnum) {
    const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    const Elf64_Shdr& names = sh[eh->e_shstrndx];
    for (int i = 0; i < eh->e_shnum && names.sh_offset < size; ++i) {
      if (sh[i].sh_name >= names.sh_size || names.sh_offset + names.sh_size > size) continue;
      const char* n = reinterpret_cast<const char*>(base + names.sh_offset + sh[i].sh_name);
      if (strnlen(n, names.sh_size - sh[i].sh_name) < names.sh_size - sh[i].sh_name &&
          std::strcmp(n, name) == 0) {
        found = {sh[i].sh_addr, sh[i].sh_size};
        break;
      }
    }
  }
  munmap(map, st.st_size);
  return found;
}

}  // namespace

std::vector<ModuleCoverage> instrumented_modules() {
  std::vector<ModuleCoverage> modules;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        if (info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') return 0;  // the executable
        const auto [addr, size] = section(info->dlpi_name, "__sancov_cntrs");
        if (size == 0) return 0;
        ModuleCoverage m;
        m.path = info->dlpi_name;
        m.counters = reinterpret_cast<const volatile std::uint8_t*>(info->dlpi_addr + addr);
        m.seen.assign(size, 0);
        static_cast<std::vector<ModuleCoverage>*>(out)->push_back(std::move(m));
        return 0;
      },
      &modules);
  return modules;
}

void accumulate(ModuleCoverage& m) {
  for (std::size_t i = 0; i < m.seen.size(); ++i) {
    if (m.seen[i] == 0 && m.counters[i] != 0) {
      m.seen[i] = 1;
      ++m.covered;
    }
  }
}

}  // namespace shadowheap::fuzz
