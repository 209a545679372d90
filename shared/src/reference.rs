//! Static reference data: ISO 3166-1 alpha-3 country codes and USPS state codes.
//!
//! Both tables are sorted so lookups can use `binary_search`; the tests below
//! guard that invariant.

/// The 249 officially assigned ISO 3166-1 alpha-3 codes, sorted ascending.
/// User-assigned codes (e.g. `XKX` for Kosovo) are deliberately absent.
const ISO3166_ALPHA3: [&str; 249] = [
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
];

/// Two-letter USPS codes: the 50 states, DC, the inhabited territories
/// (AS, GU, MP, PR, VI), the freely associated states (FM, MH, PW) and the
/// military codes (AA, AE, AP). UM is excluded: it has no mail service.
/// Sorted ascending.
const USPS_STATES: [&str; 62] = [
    "AA", "AE", "AK", "AL", "AP", "AR", "AS", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "FM", "GA",
    "GU", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MH", "MI", "MN", "MO",
    "MP", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "PR",
    "PW", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VI", "VT", "WA", "WI", "WV", "WY",
];

/// True exactly for an officially assigned ISO 3166-1 alpha-3 code, uppercase only.
pub fn is_iso3166_alpha3(code: &str) -> bool {
    ISO3166_ALPHA3.binary_search(&code).is_ok()
}

/// True exactly for an uppercase two-letter USPS state, territory or military code.
pub fn is_usps_state(code: &str) -> bool {
    USPS_STATES.binary_search(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_strictly_sorted(table: &[&str]) {
        for pair in table.windows(2) {
            assert!(
                pair[0] < pair[1],
                "not strictly sorted: {:?} >= {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn iso_table_is_strictly_sorted_and_complete() {
        assert_eq!(ISO3166_ALPHA3.len(), 249);
        assert_strictly_sorted(&ISO3166_ALPHA3);
        assert!(ISO3166_ALPHA3
            .iter()
            .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn usps_table_is_strictly_sorted_and_complete() {
        assert_eq!(USPS_STATES.len(), 62);
        assert_strictly_sorted(&USPS_STATES);
        assert!(USPS_STATES
            .iter()
            .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn iso_accepts_assigned_codes() {
        for code in ["USA", "CAN", "MEX", "GBR", "DEU"] {
            assert!(is_iso3166_alpha3(code), "{code} should be accepted");
        }
    }

    #[test]
    fn iso_rejects_invalid_codes() {
        for code in ["US", "usa", "XKX", "", "USAA"] {
            assert!(!is_iso3166_alpha3(code), "{code:?} should be rejected");
        }
    }

    #[test]
    fn usps_accepts_valid_codes() {
        for code in ["TX", "DC", "PR", "AE"] {
            assert!(is_usps_state(code), "{code} should be accepted");
        }
    }

    #[test]
    fn usps_rejects_invalid_codes() {
        for code in ["tx", "XX", "T", "UM", ""] {
            assert!(!is_usps_state(code), "{code:?} should be rejected");
        }
    }
}
