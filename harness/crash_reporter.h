// A crash or sanitizer report inside a running interpreter becomes the same report as any other
// violation (kind crash), with the trace up to the op that was running.
#pragma once

namespace shadowheap {

// Installs handlers for fatal signals (where no sanitizer already handles them) and the
// sanitizers' death callback. Called once by each driver's main; libFuzzer keeps the input too.
void install_crash_reporter();

}  // namespace shadowheap
