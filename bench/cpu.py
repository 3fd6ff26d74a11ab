"""Where the time goes, per process: CPU seconds each process spent during a measured run.

    meter = CpuMeter({"client": os.getpid(), "checkout": server.proc.pid})
    ... the run ...
    print(meter.per_call(n))   # "CPU per request: client 0.5 ms, checkout 3.0 ms"

On a 2-core machine three busy processes share two cores, so CPU per request (not only latency)
says which process to make cheaper. Uses psutil (installed with ipykernel); without it, says so.
"""
from __future__ import annotations


class CpuMeter:
    def __init__(self, pids: dict[str, int]) -> None:
        try:
            import psutil
        except ImportError:  # pragma: no cover
            self.procs = {}
            return
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        out = {}
        for name, proc in self.procs.items():
            times = proc.cpu_times()
            out[name] = times.user + times.system
        return out

    def per_call(self, calls: int, what: str = "request") -> str:
        if not self.procs:
            return "CPU per process: psutil is not installed"
        end = self._read()
        parts = [f"{name} {(end[name] - self.start[name]) / calls * 1000:.2f} ms" for name in self.procs]
        return f"CPU per {what}: " + ", ".join(parts)
