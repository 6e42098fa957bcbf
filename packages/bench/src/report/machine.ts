// What a result was measured on, recorded at the start of a run.
import { cpus, loadavg, platform, release, totalmem, arch } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  arch: string;
  os: string;
  totalMemGiB: number;
  node: string;
  v8: string;
  loadAverageAtStart: number[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    arch: arch(),
    os: `${platform()} ${release()}`,
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
