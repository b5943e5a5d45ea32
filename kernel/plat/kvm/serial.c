/* The 16550 UART at 0x3f8, the console backend. Polled: no interrupts. Each port access is a
 * VM exit under KVM, so output checks the transmitter once per FIFO's worth (16 bytes), not
 * once a byte. On Kiln's VMM, output goes through its one-exit console port instead (0x504: a
 * 32-bit read gives HOSTCON_MAGIC; a 32-bit write of the physical address of a {addr, len}
 * request prints those bytes), so a line costs one exit, not one a byte. QEMU has nothing
 * there (the read gives all ones) and the UART is used. Input always comes from the UART. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <console/console.h>
#include "plat-kvm.h"

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define FIFO_SIZE 16
#define HOSTCON 0x504
#define HOSTCON_MAGIC 0x6e6c694bu /* "Kiln" */

#ifndef CONFIG_PLAT_KVM_SERIAL_SETUP
#define CONFIG_PLAT_KVM_SERIAL_SETUP 1
#endif
#ifndef CONFIG_PLAT_KVM_SERIAL_CRLF
#define CONFIG_PLAT_KVM_SERIAL_CRLF 1
#endif

static unsigned room; /* bytes the transmit FIFO can still take */
static unsigned fifo_size = FIFO_SIZE; /* 1 when the FIFOs stay off (see serial_setup) */
static int ready;
static int hostcon; /* Kiln's VMM console port answered */

/* Read by the VMM during the exit: identity-mapped, so its address is physical. */
static volatile struct {
	uint32_t addr;
	uint32_t len;
} hostcon_req;

static void serial_setup(void);

static void put_raw(char c)
{
	if (__builtin_expect(!ready, 0))
		serial_setup();
	if (room == 0) {
		/* Wait for THRE (FIFO empty) however long the host takes to drain it: QEMU drops
		 * bytes written into a full FIFO. A missing UART reads 0xff: do not wait on it. */
		uint8_t lsr;
		while (!((lsr = arch_inb(COM1 + REG_LSR)) & LSR_THRE) && lsr != 0xff)
			arch_pause();
		room = fifo_size;
	}
	arch_outb(COM1 + REG_DATA, (uint8_t)c);
	room--;
}

/* Waits until the UART has handed every byte on (FIFO and shift register empty), so that the
 * exit port does not end the VM with the last line still in the FIFO. */
void plat_serial_flush(void)
{
	if (!ready || hostcon)
		return; /* nothing was written, or nothing is in flight (the VMM printed it in the exit) */
	uint8_t lsr;
	while (!((lsr = arch_inb(COM1 + REG_LSR)) & LSR_TEMT) && lsr != 0xff)
		arch_pause();
	room = fifo_size;
}

static void serial_write(const char *buf, size_t len)
{
	if (__builtin_expect(!ready, 0))
		serial_setup();
	if (hostcon) {
		/* The image sits below 4 GiB (kiln.ld), stacks and heap in the RAM the VMM gives it. */
		while (len) {
			uint32_t n = len > 0x10000 ? 0x10000 : (uint32_t)len;
			hostcon_req.addr = (uint32_t)(uintptr_t)buf;
			hostcon_req.len = n;
			__asm__ volatile("" : : : "memory"); /* buf and the request are in RAM before the exit */
			arch_outl(HOSTCON, (uint32_t)(uintptr_t)&hostcon_req);
			buf += n;
			len -= n;
		}
		return;
	}
	for (size_t i = 0; i < len; i++) {
		/* Serial terminals want CR LF; the host runner drops the CR. */
		if (CONFIG_PLAT_KVM_SERIAL_CRLF && buf[i] == '\n')
			put_raw('\r');
		put_raw(buf[i]);
	}
}

/* Reading needs no setup: it works with the FIFOs off, and not turning them on here keeps input
 * that arrived before the first output (a read before anything is printed) intact. */
static int serial_getc(void)
{
	if (!(arch_inb(COM1 + REG_LSR) & LSR_DR))
		return -1;
	return arch_inb(COM1 + REG_DATA);
}

static const struct console_ops serial_ops = {
	.name = "serial",
	.write = serial_write,
	.getc = serial_getc,
};

/* On first use, not at boot: every port access is a VM exit (27-41 us to QEMU on kvm-pvm, and
 * the first one into a fresh VMM worker costs hundreds of us), so an image reaches main
 * without one. Emulated UARTs (QEMU, Kiln's VMM) need no line setup, so serial_setup=false
 * keeps only the FIFO enable, which the 16-bytes-per-THRE batching above relies on. */
static void serial_setup(void)
{
	ready = 1;
	if (arch_inl(HOSTCON) == HOSTCON_MAGIC) {
		hostcon = 1;
		return;
	}
	if (CONFIG_PLAT_KVM_SERIAL_SETUP) {
		arch_outb(COM1 + REG_IER, 0x00);	/* no interrupts: polled */
		arch_outb(COM1 + REG_LCR, 0x80);	/* DLAB: divisor 1 = 115200 baud */
		arch_outb(COM1 + REG_DATA, 0x01);
		arch_outb(COM1 + REG_IER, 0x00);
		arch_outb(COM1 + REG_LCR, 0x03);	/* 8N1 */
		arch_outb(COM1 + REG_MCR, 0x03);	/* DTR, RTS */
	}
	/* Turning the FIFOs on flushes the receiver (QEMU's 16550 does whenever the enable bit
	 * changes). With input already waiting (piped into the console before the first use: the
	 * host hands over the next byte as soon as the last is read), keep the FIFOs off and check
	 * the transmitter before every byte instead, so no input byte is lost; output then costs
	 * two exits a byte instead of about one. */
	if (arch_inb(COM1 + REG_LSR) & LSR_DR)
		fifo_size = 1;
	else
		arch_outb(COM1 + REG_FCR, 0x07); /* FIFOs on, cleared */
	room = 0;
}

void plat_serial_init(void)
{
	console_register(&serial_ops);
}
