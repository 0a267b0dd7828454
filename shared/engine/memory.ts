/** Task memory as ECS accepts it: MiB as a number or string ("512"), or GB ("1 GB", "2gb"; 1 GB = 1024 MiB). */
export function parseTaskMemory(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  if (typeof value !== "string") return Number.NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(gb|g|gib|mb|mib)?\s*$/i.exec(value);
  if (!m) return Number.NaN;
  const amount = Number(m[1]);
  const unit = (m[2] ?? "").toLowerCase();
  const mib = unit.startsWith("g") ? amount * 1024 : amount;
  return Number.isInteger(mib) && mib > 0 ? mib : Number.NaN;
}

/** Task CPU units: "256", 256, "1 vCPU", "0.5 vcpu". */
export function parseTaskCpu(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return value;
  if (typeof value !== "string") return Number.NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$/i.exec(value);
  if (!m) return Number.NaN;
  return m[2] ? Math.round(Number(m[1]) * 1024) : Number(m[1]);
}

/** Fargate's valid memory sizes (MiB) for each CPU size, smallest first. */
export function fargateMemorySizes(cpu: number): number[] {
  const range = (from: number, to: number, step: number) => {
    const out: number[] = [];
    for (let m = from; m <= to; m += step) out.push(m);
    return out;
  };
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return [];
  }
}
