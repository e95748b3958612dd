//! Sensors from the SDR repository: every full sensor record of a threshold
//! sensor measured in degrees, RPM, volts, amperes or watts becomes a
//! [`SensorReading`] with its live value (Get Sensor Reading), status and
//! thresholds (Get Sensor Thresholds, §35.9), converted with the record's
//! M, B and exponents (§36.3).

use ipmi_rs::connection::{Address, Channel, IpmiCommand, Message, NetFn, NotEnoughData};
use ipmi_rs::sensor_event::{GetSensorReading, ThresholdReading};
use ipmi_rs::storage::sdr::event_reading_type_code::EventReadingTypeCodes;
use ipmi_rs::storage::sdr::record::{
    DataFormat, FullSensorRecord, Linearization, RecordContents, SensorKey,
    ThresholdAccessCapability, WithSensorRecordCommon,
};
use ipmi_rs::storage::sdr::{Record, RecordId, Unit};

use super::session::{Attempt, Conn, Fault, Link};
use crate::drivers::bmc::{BmcError, SensorKind, SensorReading, Thresholds};

/// SDR records Berth walks at most (a loop guard for broken repositories).
const MAX_RECORDS: usize = 1024;

/// Get Sensor Thresholds (§35.9).
pub struct GetSensorThresholds {
    key: SensorKey,
}

/// Raw threshold bytes and which of them the BMC says are readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawThresholds {
    pub readable: u8,
    /// lower non-critical, lower critical, lower non-recoverable, upper
    /// non-critical, upper critical, upper non-recoverable.
    pub values: [u8; 6],
}

impl From<GetSensorThresholds> for Message {
    fn from(c: GetSensorThresholds) -> Message {
        Message::new_request(NetFn::SensorEvent, 0x27, vec![c.key.sensor_number.get()])
    }
}

impl IpmiCommand for GetSensorThresholds {
    type Output = RawThresholds;
    type Error = NotEnoughData;

    fn parse_success_response(data: &[u8]) -> Result<RawThresholds, NotEnoughData> {
        match data {
            [readable, a, b, c, d, e, f, ..] => Ok(RawThresholds {
                readable: *readable,
                values: [*a, *b, *c, *d, *e, *f],
            }),
            _ => Err(NotEnoughData),
        }
    }

    fn target(&self) -> Option<(Address, Channel)> {
        Some((Address(self.key.owner_id.into()), self.key.owner_channel))
    }
}

/// Bytes of a record read per Get SDR: small enough for every BMC (some
/// refuse a whole record at once, answering "cannot return that many").
const SDR_CHUNK: u8 = 16;

/// Reserve SDR Repository (§33.11): partial reads need the reservation.
pub struct ReserveSdr;

impl From<ReserveSdr> for Message {
    fn from(_: ReserveSdr) -> Message {
        Message::new_request(NetFn::Storage, 0x22, Vec::new())
    }
}

impl IpmiCommand for ReserveSdr {
    type Output = u16;
    type Error = NotEnoughData;

    fn parse_success_response(data: &[u8]) -> Result<u16, NotEnoughData> {
        match data {
            [lo, hi, ..] => Ok(u16::from_le_bytes([*lo, *hi])),
            _ => Err(NotEnoughData),
        }
    }
}

/// Get SDR (§33.12) for `len` bytes at `offset` of record `id`.
pub struct GetSdrPart {
    pub reservation: u16,
    pub id: u16,
    pub offset: u8,
    pub len: u8,
}

impl From<GetSdrPart> for Message {
    fn from(c: GetSdrPart) -> Message {
        let [r0, r1] = c.reservation.to_le_bytes();
        let [i0, i1] = c.id.to_le_bytes();
        Message::new_request(NetFn::Storage, 0x23, vec![r0, r1, i0, i1, c.offset, c.len])
    }
}

impl IpmiCommand for GetSdrPart {
    /// The next record's id and the bytes read.
    type Output = (u16, Vec<u8>);
    type Error = NotEnoughData;

    fn parse_success_response(data: &[u8]) -> Result<(u16, Vec<u8>), NotEnoughData> {
        match data {
            [lo, hi, rest @ ..] => Ok((u16::from_le_bytes([*lo, *hi]), rest.to_vec())),
            _ => Err(NotEnoughData),
        }
    }
}

/// One whole record (header included) read in chunks, and the next id.
fn read_record(link: &Link, conn: &mut Conn, reservation: u16, id: u16) -> Attempt<(u16, Vec<u8>)> {
    let part = |offset: usize, len: usize| GetSdrPart {
        reservation,
        id,
        offset: u8::try_from(offset).unwrap_or(u8::MAX),
        len: u8::try_from(len).unwrap_or(SDR_CHUNK),
    };
    let (next, mut bytes) = link.send(conn, "Get SDR", part(0, 5))?;
    let total = 5 + usize::from(bytes.get(4).copied().unwrap_or(0));
    while bytes.len() < total {
        let len = (total - bytes.len()).min(usize::from(SDR_CHUNK));
        let (_, chunk) = link.send(conn, "Get SDR", part(bytes.len(), len))?;
        if chunk.is_empty() {
            break;
        }
        bytes.extend(chunk);
    }
    bytes.truncate(total);
    Ok((next, bytes))
}

/// The conversion of one sensor's raw bytes (§36.3).
#[derive(Clone, Copy, Debug)]
pub struct Conversion {
    pub format: Option<DataFormat>,
    pub linearization: Linearization,
    pub m: i16,
    pub b: i16,
    pub r_exp: i8,
    pub b_exp: i8,
    /// Kelvin and Fahrenheit are reported in celsius.
    pub offset_to_celsius: Option<fn(f64) -> f64>,
}

impl Conversion {
    fn of(record: &FullSensorRecord, unit: Unit) -> Conversion {
        Conversion {
            format: record.analog_data_format,
            linearization: record.linearization,
            m: record.m,
            b: record.b,
            r_exp: record.result_exponent,
            b_exp: record.b_exponent,
            offset_to_celsius: match unit {
                Unit::DegreesFahrenheit => Some(|f| (f - 32.0) * 5.0 / 9.0),
                Unit::DegreesKelvin => Some(|k| k - 273.15),
                _ => None,
            },
        }
    }

    pub fn convert(&self, raw: u8) -> Option<f64> {
        let x = match self.format? {
            DataFormat::Unsigned => f64::from(raw),
            DataFormat::TwosComplement => f64::from(raw as i8),
            DataFormat::OnesComplement if raw & 0x80 != 0 => -f64::from(!raw & 0x7f),
            DataFormat::OnesComplement => f64::from(raw),
        };
        let y = (f64::from(self.m) * x + f64::from(self.b) * 10f64.powi(self.b_exp.into()))
            * 10f64.powi(self.r_exp.into());
        let y = match self.linearization {
            Linearization::Linear | Linearization::Oem(_) | Linearization::Unknown(_) => y,
            Linearization::Ln => y.ln(),
            Linearization::Log10 => y.log10(),
            Linearization::Log2 => y.log2(),
            Linearization::E => y.exp(),
            Linearization::Exp10 => 10f64.powf(y),
            Linearization::Exp2 => y.exp2(),
            Linearization::OneOverX => 1.0 / y,
            Linearization::Sqr => y * y,
            Linearization::Cube => y * y * y,
            Linearization::Sqrt => y.sqrt(),
            Linearization::CubeRoot => y.cbrt(),
        };
        let y = self.offset_to_celsius.map_or(y, |f| f(y));
        // Drop float noise (0.06 * 200 = 12.000000000000002).
        y.is_finite().then(|| (y * 1e6).round() / 1e6)
    }
}

/// The kind and Prometheus unit of a sensor, or `None` for units Berth
/// does not report (rates, modifiers and percentages included).
pub fn kind_of(record: &FullSensorRecord) -> Option<(SensorKind, &'static str, Unit)> {
    let units = &record.common().sensor_units;
    if units.rate.is_some() || units.modifier.is_some() || units.is_percentage {
        return None;
    }
    let unit = units.base_unit;
    let (kind, name) = match unit {
        Unit::DegreesCelsius | Unit::DegreesFahrenheit | Unit::DegreesKelvin => {
            (SensorKind::Temperature, "celsius")
        }
        Unit::RevolutionsPerMinute => (SensorKind::Fan, "rpm"),
        Unit::Volt => (SensorKind::Voltage, "volts"),
        Unit::Amp => (SensorKind::Current, "amperes"),
        Unit::Watt => (SensorKind::Power, "watts"),
        _ => return None,
    };
    Some((kind, name, unit))
}

/// Ironic-style thresholds from the raw bytes the BMC marks readable.
pub fn thresholds(raw: &RawThresholds, conv: &Conversion) -> Thresholds {
    let value = |bit: usize| {
        (raw.readable & (1 << bit) != 0)
            .then(|| raw.values.get(bit).copied())
            .flatten()
            .and_then(|v| conv.convert(v))
    };
    Thresholds {
        lower_non_critical: value(0),
        lower_critical: value(1),
        upper_non_critical: value(3),
        upper_critical: value(4),
    }
}

fn health(reading: &ThresholdReading) -> Option<String> {
    let s = reading.threshold_status?;
    let h = if s.at_or_above_non_recoverable
        || s.at_or_above_upper_critical
        || s.at_or_below_lower_non_recoverable
        || s.at_or_below_lower_critical
    {
        "critical"
    } else if s.at_or_above_upper_non_critical || s.at_or_below_lower_non_critical {
        "warning"
    } else {
        "ok"
    };
    Some(h.into())
}

/// Walks the SDR repository and reads every sensor Berth reports. One
/// attempt: a timeout anywhere restarts the walk on a fresh session.
pub(super) fn read_all(link: &Link, conn: &mut Conn) -> Attempt<Vec<SensorReading>> {
    let mut out = Vec::new();
    let mut reservation = link.send(conn, "Reserve SDR Repository", ReserveSdr)?;
    let mut id = RecordId::FIRST.value();
    for _ in 0..MAX_RECORDS {
        if id == RecordId::LAST.value() {
            break;
        }
        let (next, bytes) = match read_record(link, conn, reservation, id) {
            Ok(r) => r,
            // The reservation was cancelled (the repository changed): once more.
            Err(Fault::Final(_)) => {
                reservation = link.send(conn, "Reserve SDR Repository", ReserveSdr)?;
                read_record(link, conn, reservation, id)?
            }
            Err(e) => return Err(e),
        };
        if next == id {
            break;
        }
        id = next;
        // A record ipmi-rs cannot parse is skipped.
        let Ok(record) = Record::parse(&bytes) else {
            continue;
        };
        let RecordContents::FullSensor(record) = &record.contents else {
            continue;
        };
        let common = record.common();
        if !matches!(
            common.event_reading_type_code,
            EventReadingTypeCodes::Threshold
        ) {
            continue;
        }
        let Some((kind, unit_name, unit)) = kind_of(record) else {
            continue;
        };
        let conv = Conversion::of(record, unit);
        let key = common.key;
        let raw = match link.send(
            conn,
            "Get Sensor Reading",
            GetSensorReading::for_sensor_key(&key),
        ) {
            Ok(r) => Some(r),
            // A sensor the BMC lists but cannot read now (not present).
            Err(Fault::Final(BmcError::Unsupported(_))) => None,
            Err(Fault::Final(BmcError::Failed(_))) => None,
            Err(e) => return Err(e),
        };
        let reading = raw.as_ref().map(ThresholdReading::from);
        let value = reading
            .as_ref()
            .filter(|r| !r.scanning_disabled)
            .and_then(|r| r.reading)
            .and_then(|v| conv.convert(v));
        let thresholds = match common.capabilities.threshold_access {
            ThresholdAccessCapability::Readable { .. }
            | ThresholdAccessCapability::ReadableAndSettable { .. } => {
                match link.send(conn, "Get Sensor Thresholds", GetSensorThresholds { key }) {
                    Ok(raw) => self::thresholds(&raw, &conv),
                    Err(Fault::Timeout(t)) => return Err(Fault::Timeout(t)),
                    Err(Fault::Final(_)) => Thresholds::default(),
                }
            }
            _ => Thresholds::default(),
        };
        out.push(SensorReading {
            kind,
            name: common.sensor_id.to_string(),
            reading: value,
            unit: unit_name.into(),
            health: reading
                .as_ref()
                .filter(|_| value.is_some())
                .and_then(health),
            thresholds,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(m: i16, b: i16, r_exp: i8, b_exp: i8) -> Conversion {
        Conversion {
            format: Some(DataFormat::Unsigned),
            linearization: Linearization::Linear,
            m,
            b,
            r_exp,
            b_exp,
            offset_to_celsius: None,
        }
    }

    #[test]
    fn converts_with_m_b_and_exponents() {
        assert_eq!(linear(1, 0, 0, 0).convert(45), Some(45.0));
        assert_eq!(linear(50, 0, 0, 0).convert(72), Some(3600.0));
        assert_eq!(linear(6, 0, -2, 0).convert(200), Some(12.0));
        assert_eq!(linear(1, 5, -1, 1).convert(25), Some(7.5));
        let signed = Conversion {
            format: Some(DataFormat::TwosComplement),
            ..linear(1, 0, 0, 0)
        };
        assert_eq!(signed.convert(0xf6), Some(-10.0));
        let ones = Conversion {
            format: Some(DataFormat::OnesComplement),
            ..linear(1, 0, 0, 0)
        };
        assert_eq!(ones.convert(0xf5), Some(-10.0));
        let none = Conversion {
            format: None,
            ..linear(1, 0, 0, 0)
        };
        assert_eq!(none.convert(1), None);
        let kelvin = Conversion {
            offset_to_celsius: Some(|k| k - 273.15),
            ..linear(2, 0, 0, 0)
        };
        assert_eq!(kelvin.convert(150), Some(26.85));
    }

    #[test]
    fn only_readable_thresholds_are_reported() {
        let raw = RawThresholds {
            readable: 0b0001_1011,
            values: [10, 5, 1, 75, 85, 95],
        };
        let t = thresholds(&raw, &linear(1, 0, 0, 0));
        assert_eq!(
            t,
            Thresholds {
                lower_non_critical: Some(10.0),
                lower_critical: Some(5.0),
                upper_non_critical: Some(75.0),
                upper_critical: Some(85.0),
            }
        );
        let t = thresholds(
            &RawThresholds {
                readable: 0b0001_0000,
                ..raw
            },
            &linear(1, 0, 0, 0),
        );
        assert_eq!(t.upper_critical, Some(85.0));
        assert_eq!(t.lower_critical, None);
        assert_eq!(
            GetSensorThresholds::parse_success_response(&[0x3f, 1, 2, 3, 4, 5, 6]).unwrap(),
            RawThresholds {
                readable: 0x3f,
                values: [1, 2, 3, 4, 5, 6]
            }
        );
    }
}
