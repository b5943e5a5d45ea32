/* plat-kvm internals. */
#ifndef PLAT_KVM_INTERNAL_H
#define PLAT_KVM_INTERNAL_H

void plat_serial_init(void);
void plat_serial_flush(void);

#endif
