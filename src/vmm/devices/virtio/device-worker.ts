// Entry of the virtio device thread (a worker the vCPU thread starts): see device-thread.ts.
import { workerData } from "node:worker_threads";
import { loadEventSys } from "../../eventfd.ts";
import { VcpuControl } from "../../control.ts";
import { loadSys } from "../../sys.ts";
import { isDeviceThreadInit, runDeviceThread } from "./device-thread.ts";

if (!isDeviceThreadInit(workerData)) throw new Error("device-worker.ts needs a DeviceThreadInit as workerData");
const sys = loadSys();
const control = workerData.vcpuControl ? new VcpuControl(workerData.vcpuControl) : undefined;
runDeviceThread(workerData, loadEventSys(), (addr, len) => sys.view(addr, len), () => void control?.kick(sys));
