/** Task memory and CPU as ECS accepts them, and Fargate's sizes (Amazon ECS task size table). */
import { describe, expect, it } from "vitest";
import { fargateMemorySizes, parseTaskCpu, parseTaskMemory } from "#shared/engine/memory.ts";

const gib = (from: number, to: number, step = 1) => {
  const out: number[] = [];
  for (let g = from; g <= to; g += step) out.push(g * 1024);
  return out;
};

describe("parseTaskMemory", () => {
  it.each([
    [512, 512],
    ["512", 512],
    [" 2048 ", 2048],
    ["1 GB", 1024],
    ["2gb", 2048],
    ["0.5 GB", 512],
    ["3g", 3072],
    ["1 GiB", 1024],
    ["768 MiB", 768],
    ["768mb", 768],
    ["0.25 GB", 256],
  ])("reads %j as %i MiB", (value, mib) => {
    expect(parseTaskMemory(value)).toBe(mib);
  });

  it.each([undefined, null, ""])("has no task memory for %j", (value) => {
    expect(parseTaskMemory(value)).toBeUndefined();
  });

  it.each([0, -512, 1.5, "0", "abc", "1.5", "0.3 GB", "512 kb", "GB", "x512", "512x", true, {}, [], [512]])(
    "refuses %j (NaN: not a size ECS accepts)",
    (value) => {
      expect(parseTaskMemory(value)).toBeNaN();
    },
  );
});

describe("parseTaskCpu", () => {
  it.each([
    [256, 256],
    ["256", 256],
    [" 1024 ", 1024],
    ["1 vCPU", 1024],
    ["0.5 vcpu", 512],
    ["0.25vcpu", 256],
    ["2 VCPU", 2048],
  ])("reads %j as %i units", (value, units) => {
    expect(parseTaskCpu(value)).toBe(units);
  });

  it.each([undefined, null, ""])("has no task cpu for %j", (value) => {
    expect(parseTaskCpu(value)).toBeUndefined();
  });

  it.each(["abc", "1 core", "vcpu", "x256", "256x", true, {}, [256]])("refuses %j", (value) => {
    expect(parseTaskCpu(value)).toBeNaN();
  });
});

describe("fargateMemorySizes", () => {
  it.each([
    [256, [512, 1024, 2048]],
    [512, gib(1, 4)],
    [1024, gib(2, 8)],
    [2048, gib(4, 16)],
    [4096, gib(8, 30)],
    [8192, gib(16, 60, 4)],
    [16384, gib(32, 120, 8)],
  ])("cpu %i: %j", (cpu, sizes) => {
    expect(fargateMemorySizes(cpu)).toEqual(sizes);
  });

  it.each([0, 128, 1000, 32768])("has no sizes for cpu %i (not a Fargate size)", (cpu) => {
    expect(fargateMemorySizes(cpu)).toEqual([]);
  });
});
