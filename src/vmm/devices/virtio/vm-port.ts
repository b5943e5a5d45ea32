// The Vm handle's end of the virtio device thread's MessagePort: console output as it comes,
// then the final report. The handle waits for that report before it settles `exited`, so
// output the device thread sent just before the guest exited is never lost.
import { MessageChannel, type MessagePort } from "node:worker_threads";
import type { DevicePortMessage, VirtioDeviceReport } from "./device-thread.ts";

export class DevicePort {
  /** Goes to the vCPU worker (in its WorkerInit), which hands it to the device thread. */
  readonly remote: MessagePort;
  /** What the device thread reported when it stopped. */
  report: VirtioDeviceReport[] | undefined;
  private readonly local: MessagePort;
  private readonly done: Promise<void>;

  constructor(write: (bytes: Uint8Array) => void) {
    const { port1, port2 } = new MessageChannel();
    this.local = port1;
    this.remote = port2;
    this.done = new Promise<void>((resolve) => {
      port1.on("message", (m: DevicePortMessage) => {
        if (m.type === "output") write(m.bytes);
        else {
          this.report = m.devices;
          port1.close();
          resolve();
        }
      });
      port1.on("close", () => resolve());
    });
  }

  /** Resolves when the device thread has reported (or after `ms`, if it never will). */
  closed(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    return Promise.race([this.done, late]).finally(() => {
      clearTimeout(timer);
      this.local.close();
    });
  }
}
