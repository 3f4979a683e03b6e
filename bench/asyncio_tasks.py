#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The asyncio side of bench_task: N tasks in a TaskGroup blocked on one asyncio.Event, then
woken (event set) or cancelled, and joined by leaving the TaskGroup. One cold round and one
steady-state round (after a warm-up) per variant, in one process each. Prints key=value lines
in milliseconds."""

import asyncio
import sys
import time


async def waiter(ev):
    await ev.wait()


async def one_round(n, cancel):
    ev = asyncio.Event()
    tasks = []
    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tasks.append(tg.create_task(waiter(ev)))
        t1 = time.perf_counter()
        # One loop iteration: every task takes its first step and blocks on the event.
        await asyncio.sleep(0)
        t2 = time.perf_counter()
        if cancel:
            for t in tasks:
                t.cancel()
        else:
            ev.set()
    t3 = time.perf_counter()
    return (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - t0) * 1e3


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    print(f"python={sys.version.split()[0]} n={n}")
    for name, cancel in (("wake", False), ("cancel", True)):
        cold = asyncio.run(one_round(n, cancel))
        steady = asyncio.run(one_round(n, cancel))
        for label, r in (("cold", cold), ("steady", steady)):
            print(f"{name}_{label}_spawn_ms={r[0]:.2f} {name}_{label}_step_ms={r[1]:.2f} "
                  f"{name}_{label}_finish_ms={r[2]:.2f}")
            print(f"{name}_{label}_ms={r[3]:.2f}")


if __name__ == "__main__":
    main()
