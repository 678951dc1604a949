//! Generic timer: the virtual counter is driven by retired instructions
//! (one tick each) plus idle time the embedder skips, so a run is
//! deterministic. The EL1 virtual and physical timers compare against it
//! (CNTVOFF is zero: physical and virtual counts are equal).

use crate::cpu::Core;

/// CNTx_CTL.ENABLE.
pub const CTL_ENABLE: u64 = 1;
/// CNTx_CTL.IMASK.
pub const CTL_IMASK: u64 = 2;
/// CNTx_CTL.ISTATUS (read-only).
pub const CTL_ISTATUS: u64 = 4;

impl Core {
    /// CNTx_CTL value as read: ISTATUS reflects `counter >= cval`.
    #[must_use]
    pub fn timer_ctl_read(&self, ctl: u64, cval: u64) -> u64 {
        let fired = ctl & CTL_ENABLE != 0 && self.counter() >= cval;
        (ctl & 3) | if fired { CTL_ISTATUS } else { 0 }
    }

    /// CNTx_TVAL as read: the signed 32-bit distance to CVAL.
    #[must_use]
    pub fn timer_tval_read(&self, cval: u64) -> u64 {
        u64::from(cval.wrapping_sub(self.counter()) as u32)
    }

    /// CVAL after a TVAL write: counter + sign-extended 32-bit value.
    #[must_use]
    pub fn timer_tval_to_cval(&self, tval: u64) -> u64 {
        self.counter()
            .wrapping_add(i64::from(tval as u32 as i32) as u64)
    }

    /// Output level of the virtual timer (to PPI 11 of the interrupt controller).
    #[must_use]
    pub fn vtimer_irq(&self) -> bool {
        let c = self.sys.cntv_ctl;
        c & CTL_ENABLE != 0 && c & CTL_IMASK == 0 && self.counter() >= self.sys.cntv_cval
    }

    /// Output level of the EL1 physical timer (to PPI 14).
    #[must_use]
    pub fn ptimer_irq(&self) -> bool {
        let c = self.sys.cntp_ctl;
        c & CTL_ENABLE != 0 && c & CTL_IMASK == 0 && self.counter() >= self.sys.cntp_cval
    }

    /// Counter value at which the next enabled, unmasked timer fires, if it
    /// is in the future.
    #[must_use]
    pub fn timer_deadline(&self) -> Option<u64> {
        let now = self.counter();
        [
            (self.sys.cntv_ctl, self.sys.cntv_cval),
            (self.sys.cntp_ctl, self.sys.cntp_cval),
        ]
        .iter()
        .filter(|(ctl, cval)| ctl & (CTL_ENABLE | CTL_IMASK) == CTL_ENABLE && *cval > now)
        .map(|&(_, cval)| cval)
        .min()
    }

    /// The retired-instruction count at which [`Core::timer_deadline`] is reached.
    #[must_use]
    pub fn timer_deadline_icount(&self) -> Option<u64> {
        self.timer_deadline()
            .map(|d| self.icount.saturating_add(d - self.counter()))
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::Cpu;
    use crate::mem::NoMmio;
    use crate::sysreg::CpuProfile;

    use super::*;

    fn cpu() -> Cpu {
        Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()))
    }

    #[test]
    fn tval_write_and_read_are_relative_to_the_counter() {
        let mut c = cpu();
        c.core.icount = 1000;
        let cval = c.core.timer_tval_to_cval(500);
        assert_eq!(cval, 1500);
        assert_eq!(c.core.timer_tval_read(cval), 500);
        let past = c.core.timer_tval_to_cval(u64::from((-10i32) as u32));
        assert_eq!(past, 990);
    }

    #[test]
    fn timer_fires_when_counter_reaches_cval() {
        let mut c = cpu();
        c.core.sys.cntv_ctl = CTL_ENABLE;
        c.core.sys.cntv_cval = 100;
        assert!(!c.core.vtimer_irq());
        assert_eq!(c.core.timer_deadline(), Some(100));
        c.advance_counter_to(100);
        assert!(c.core.vtimer_irq());
        assert_eq!(
            c.core.timer_ctl_read(CTL_ENABLE, 100),
            CTL_ENABLE | CTL_ISTATUS
        );
        c.core.sys.cntv_ctl |= CTL_IMASK;
        assert!(!c.core.vtimer_irq());
    }
}
