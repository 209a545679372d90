//! The customer record: its rules (the contract's table), the typed record that only a valid
//! request can produce, the merge of a PATCH into a stored record, and the shape a GET returns.

use crate::error::ApiError;
use crate::pii::Sensitive;
use crate::reference;
use crate::validate::{self, SsnError, MAX_SAFE_INTEGER};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The primary key Giggle chooses: an integer from 1 to 2^53-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GiggleId(u64);

impl GiggleId {
    pub fn new(id: u64) -> Option<Self> {
        (1..=MAX_SAFE_INTEGER).contains(&id).then_some(GiggleId(id))
    }

    /// The `{giggleId}` of a URL: digits only, in range.
    pub fn from_path(segment: &str) -> Result<Self, ApiError> {
        validate::path_id(segment)
            .and_then(GiggleId::new)
            .ok_or_else(|| ApiError::bad_request("Giggle ID must be a positive integer."))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for GiggleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerType {
    Person,
    Company,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub street1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
}

/// A customer that passed every rule. Only [`Customer::from_json`] builds one from input.
///
/// `ssn` and `ein` are never serialised with the rest: the store writes them sealed (see
/// [`crate::pii`]), and nothing else may write them at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub giggle_id: GiggleId,
    pub active: bool,
    pub customer_type: CustomerType,
    pub name: String,
    pub surname: String,
    pub email: String,
    pub dob: String,
    #[serde(skip)]
    pub ssn: Option<Sensitive>,
    #[serde(skip)]
    pub ein: Option<Sensitive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub access_user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
}

/// A customer's fields, in the contract's table order.
pub const TOP_FIELDS: [&str; 13] = [
    "giggleId",
    "active",
    "customerType",
    "name",
    "surname",
    "email",
    "dob",
    "ssn",
    "ein",
    "companyName",
    "accessUserName",
    "address",
    "phone",
];
const ADDRESS_FIELDS: [&str; 6] = ["street1", "street2", "city", "state", "zip", "country"];
const ADDRESS_REQUIRED: [&str; 5] = ["street1", "city", "state", "zip", "country"];
const PHONE_FIELDS: [&str; 4] = ["number", "type", "carrierVerified", "carrierName"];
const PHONE_REQUIRED: [&str; 2] = ["number", "type"];

fn invalid(field: &str, rule: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid '{field}': {rule}."))
}

/// A present, non-null value. `null` counts as absent for every field on create.
fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn unknown_fields(
    obj: &Map<String, Value>,
    allowed: &[&str],
    prefix: &str,
) -> Result<(), ApiError> {
    let unknown: Vec<String> = obj
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("'{prefix}{k}'"))
        .collect();
    match unknown.len() {
        0 => Ok(()),
        1 => Err(ApiError::bad_request(format!(
            "Unknown field {}.",
            unknown[0]
        ))),
        _ => Err(ApiError::bad_request(format!(
            "Unknown fields {}.",
            unknown.join(", ")
        ))),
    }
}

fn string_field(
    obj: &Map<String, Value>,
    field: &str,
    label: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match present(obj, field) {
        None => Ok(None),
        Some(Value::String(s)) => validate::text(s, 1, max)
            .map(Some)
            .ok_or_else(|| invalid(label, &format!("must be a string of 1 to {max} characters"))),
        Some(_) => Err(invalid(
            label,
            &format!("must be a string of 1 to {max} characters"),
        )),
    }
}

fn bool_field(
    obj: &Map<String, Value>,
    field: &str,
    label: &str,
) -> Result<Option<bool>, ApiError> {
    match present(obj, field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(label, "must be true or false")),
    }
}

/// What a PATCH keeps of the stored record without sending it: the sealed SSN and EIN, which
/// cannot be merged as JSON because no function can read them.
#[derive(Default)]
struct Kept {
    ssn: Option<Sensitive>,
    ein: Option<Sensitive>,
}

/// The fields a create must carry, in the contract's table order, given what was sent.
fn missing_fields(obj: &Map<String, Value>, kept: &Kept) -> Vec<String> {
    let mut missing: Vec<String> = [
        "giggleId",
        "active",
        "customerType",
        "name",
        "surname",
        "email",
        "dob",
    ]
    .iter()
    .filter(|f| present(obj, f).is_none())
    .map(|f| f.to_string())
    .collect();
    match present(obj, "customerType").and_then(Value::as_str) {
        Some("person") if present(obj, "ssn").is_none() && kept.ssn.is_none() => {
            missing.push("ssn".into())
        }
        Some("company") => {
            if present(obj, "ein").is_none() && kept.ein.is_none() {
                missing.push("ein".into());
            }
            if present(obj, "companyName").is_none() {
                missing.push("companyName".into());
            }
        }
        _ => {}
    }
    for (object, required) in [
        ("address", &ADDRESS_REQUIRED[..]),
        ("phone", &PHONE_REQUIRED[..]),
    ] {
        if let Some(Value::Object(inner)) = present(obj, object) {
            for f in required {
                if present(inner, f).is_none() {
                    missing.push(format!("{object}.{f}"));
                }
            }
        }
    }
    missing
}

impl Customer {
    /// Parses a create body (or a PATCH merged onto a stored record) into a customer, checking
    /// every rule of the contract. Order of complaints: unknown fields, then every missing
    /// required field at once, then the first malformed value in table order.
    pub fn from_json(obj: &Map<String, Value>, today: NaiveDate) -> Result<Customer, ApiError> {
        Customer::parse(obj, today, Kept::default())
    }

    fn parse(obj: &Map<String, Value>, today: NaiveDate, kept: Kept) -> Result<Customer, ApiError> {
        unknown_fields(obj, &TOP_FIELDS, "")?;
        for (object, allowed) in [
            ("address", &ADDRESS_FIELDS[..]),
            ("phone", &PHONE_FIELDS[..]),
        ] {
            match present(obj, object) {
                None => {}
                Some(Value::Object(inner)) => {
                    unknown_fields(inner, allowed, &format!("{object}."))?
                }
                Some(_) => return Err(invalid(object, "must be an object")),
            }
        }
        let missing = missing_fields(obj, &kept);
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|f| format!("'{f}'")).collect();
            return Err(ApiError::bad_request(format!(
                "Did not provide {}",
                names.join(", ")
            )));
        }

        let giggle_id = present(obj, "giggleId")
            .and_then(validate::json_integer)
            .and_then(GiggleId::new)
            .ok_or_else(|| invalid("giggleId", "must be an integer from 1 to 9007199254740991"))?;
        let active = bool_field(obj, "active", "active")?.expect("checked as required");
        let customer_type = match present(obj, "customerType") {
            Some(Value::String(s)) if s == "person" => CustomerType::Person,
            Some(Value::String(s)) if s == "company" => CustomerType::Company,
            _ => return Err(invalid("customerType", "must be 'person' or 'company'")),
        };
        let name = string_field(obj, "name", "name", 100)?.expect("checked as required");
        let surname = string_field(obj, "surname", "surname", 100)?.expect("checked as required");
        let email = match present(obj, "email") {
            Some(Value::String(s)) if validate::email(s) => s.clone(),
            _ => {
                return Err(invalid(
                    "email",
                    "must be a valid email address of at most 254 characters",
                ))
            }
        };
        let dob = match present(obj, "dob")
            .and_then(Value::as_str)
            .and_then(validate::parse_date)
        {
            Some(d) if d > today => return Err(invalid("dob", "must not be in the future")),
            Some(d) => d,
            None => return Err(invalid("dob", "must be a real date written YYYY-MM-DD")),
        };
        let ssn = match present(obj, "ssn") {
            None => kept.ssn,
            Some(v) => match validate::ssn(v) {
                Ok(digits) => Some(Sensitive::clear(digits)),
                Err(SsnError::Format) => {
                    return Err(invalid(
                        "ssn",
                        "must be 9 digits, written NNNNNNNNN or NNN-NN-NNNN",
                    ))
                }
                Err(SsnError::NeverIssued) => {
                    return Err(invalid(
                        "ssn",
                        "is not a valid SSN (area 000 or 666, group 00 or serial 0000)",
                    ))
                }
            },
        };
        let ein = match present(obj, "ein") {
            None => kept.ein,
            Some(v) => Some(Sensitive::clear(validate::ein(v).ok_or_else(|| {
                invalid("ein", "must be 9 digits, written NNNNNNNNN or NN-NNNNNNN")
            })?)),
        };
        let company_name = string_field(obj, "companyName", "companyName", 200)?;
        let access_user_name = match present(obj, "accessUserName") {
            None => validate::derive_access_user_name(&name, &surname),
            Some(Value::String(s)) if validate::access_user_name(s) => s.clone(),
            Some(_) => {
                return Err(invalid(
                    "accessUserName",
                    "must be written firstname_lastname: at least one '_', no spaces, 2 to 201 characters",
                ))
            }
        };
        let address = match present(obj, "address") {
            Some(Value::Object(a)) => Some(parse_address(a)?),
            _ => None,
        };
        let phone = match present(obj, "phone") {
            Some(Value::Object(p)) => Some(parse_phone(p)?),
            _ => None,
        };
        Ok(Customer {
            giggle_id,
            active,
            customer_type,
            name,
            surname,
            email,
            dob: dob.format("%Y-%m-%d").to_string(),
            ssn,
            ein,
            company_name,
            access_user_name,
            address,
            phone,
        })
    }

    /// The date of birth; `None` only for a stored record that was damaged outside the API.
    pub fn dob_date(&self) -> Option<NaiveDate> {
        validate::parse_date(&self.dob)
    }
}

fn parse_address(a: &Map<String, Value>) -> Result<Address, ApiError> {
    let street1 = string_field(a, "street1", "address.street1", 200)?.expect("required");
    let street2 = string_field(a, "street2", "address.street2", 200)?;
    let city = string_field(a, "city", "address.city", 100)?.expect("required");
    let country = match present(a, "country") {
        Some(Value::String(s)) if reference::is_iso3166_alpha3(&s.to_ascii_uppercase()) => {
            s.to_ascii_uppercase()
        }
        _ => {
            return Err(invalid(
                "address.country",
                "must be an ISO 3166-1 alpha-3 country code such as 'USA'",
            ))
        }
    };
    let (state, zip) = if country == "USA" {
        let state = match present(a, "state") {
            Some(Value::String(s)) if reference::is_usps_state(&s.to_ascii_uppercase()) => {
                s.to_ascii_uppercase()
            }
            _ => {
                return Err(invalid(
                    "address.state",
                    "must be a USPS state code such as 'TX'",
                ))
            }
        };
        let zip = match present(a, "zip") {
            Some(Value::String(s)) if validate::us_zip(s) => s.clone(),
            _ => {
                return Err(invalid(
                    "address.zip",
                    "must be a US ZIP code written 12345 or 12345-6789",
                ))
            }
        };
        (state, zip)
    } else {
        (
            string_field(a, "state", "address.state", 100)?.expect("required"),
            string_field(a, "zip", "address.zip", 20)?.expect("required"),
        )
    };
    Ok(Address {
        street1,
        street2,
        city,
        state,
        zip,
        country,
    })
}

fn parse_phone(p: &Map<String, Value>) -> Result<Phone, ApiError> {
    let number = present(p, "number")
        .and_then(validate::us_phone)
        .ok_or_else(|| {
            invalid(
                "phone.number",
                "must be a 10-digit US phone number such as 123-456-7890",
            )
        })?;
    let kind = match present(p, "type") {
        Some(Value::String(s)) if s == "office" || s == "mobile" => s.clone(),
        _ => return Err(invalid("phone.type", "must be 'office' or 'mobile'")),
    };
    let carrier_verified = bool_field(p, "carrierVerified", "phone.carrierVerified")?;
    let carrier_name = string_field(p, "carrierName", "phone.carrierName", 100)?;
    Ok(Phone {
        number,
        kind,
        carrier_verified,
        carrier_name,
    })
}

/// A PATCH must change something: `{}` (or no body) is refused before the store is read.
pub fn require_changes(patch: &Map<String, Value>) -> Result<(), ApiError> {
    if patch.is_empty() {
        return Err(ApiError::bad_request("No fields to update."));
    }
    Ok(())
}

/// Applies a PATCH body to a stored record: only the fields sent change, `address` and `phone`
/// merge key by key, `null` removes an optional field. The merged record must then pass every
/// rule of a create, the cross-field ones included.
pub fn apply_patch(
    stored: &Customer,
    patch: &Map<String, Value>,
    today: NaiveDate,
) -> Result<Customer, ApiError> {
    require_changes(patch)?;
    unknown_fields(patch, &TOP_FIELDS, "")?;
    let mut merged = match serde_json::to_value(stored) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(ApiError::Internal(
                "a stored customer did not serialise to an object".into(),
            ))
        }
    };
    const ALWAYS_REQUIRED: [&str; 8] = [
        "active",
        "customerType",
        "name",
        "surname",
        "email",
        "dob",
        "accessUserName",
        "giggleId",
    ];
    for (key, value) in patch {
        if key == "giggleId" {
            if validate::json_integer(value) != Some(stored.giggle_id.get()) {
                return Err(invalid("giggleId", "cannot be changed"));
            }
            continue;
        }
        if value.is_null() {
            // accessUserName is optional on input (it is derived when absent), so null re-derives it.
            if ALWAYS_REQUIRED.contains(&key.as_str()) && key != "accessUserName" {
                return Err(invalid(key, "is required and cannot be removed"));
            }
            merged.remove(key);
            continue;
        }
        match (key.as_str(), value, merged.get_mut(key)) {
            ("address" | "phone", Value::Object(changes), Some(Value::Object(current))) => {
                let required: &[&str] = if key == "address" {
                    &ADDRESS_REQUIRED
                } else {
                    &PHONE_REQUIRED
                };
                for (sub, v) in changes {
                    if v.is_null() {
                        if required.contains(&sub.as_str()) {
                            return Err(invalid(
                                &format!("{key}.{sub}"),
                                "is required and cannot be removed",
                            ));
                        }
                        current.remove(sub);
                    } else {
                        current.insert(sub.clone(), v.clone());
                    }
                }
            }
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    // A name change keeps the stored accessUserName unless it is sent or removed. The sealed
    // SSN and EIN are kept unless the PATCH sends (or removes) them.
    let kept = Kept {
        ssn: (!patch.contains_key("ssn"))
            .then(|| stored.ssn.clone())
            .flatten(),
        ein: (!patch.contains_key("ein"))
            .then(|| stored.ein.clone())
            .flatten(),
    };
    Customer::parse(&merged, today, kept)
}

/// `customerData` of a GET: every stored field but the SSN, plus `age`, `city` and `ssnLast4`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerView<'a> {
    giggle_id: GiggleId,
    active: bool,
    customer_type: CustomerType,
    name: &'a str,
    surname: &'a str,
    age: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a Phone>,
    dob: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ein_last4: Option<&'a str>,
    email: &'a str,
    access_user_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssn_last4: Option<&'a str>,
}

impl<'a> CustomerView<'a> {
    /// Fails only for a stored record damaged outside the API (a 500; the value is not logged).
    pub fn new(c: &'a Customer, today: NaiveDate) -> Result<Self, ApiError> {
        let dob = c.dob_date().ok_or_else(|| {
            ApiError::Internal(format!(
                "stored customer {} has a malformed dob",
                c.giggle_id
            ))
        })?;
        Ok(CustomerView {
            giggle_id: c.giggle_id,
            active: c.active,
            customer_type: c.customer_type,
            name: &c.name,
            surname: &c.surname,
            age: validate::age_on(dob, today),
            city: c.address.as_ref().map(|a| a.city.as_str()),
            company_name: c.company_name.as_deref(),
            address: c.address.as_ref(),
            phone: c.phone.as_ref(),
            dob: &c.dob,
            ein_last4: c.ein.as_ref().map(Sensitive::last4),
            email: &c.email,
            access_user_name: &c.access_user_name,
            ssn_last4: c.ssn.as_ref().map(Sensitive::last4),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn seed() -> Map<String, Value> {
        match json!({
           "active": true, "customerType": "person", "ssn": 123456789, "dob": "2000-01-30",
           "name": "John", "surname": "Doe", "accessUserName": "john_doe",
           "email": "john.doe@email.com", "companyName": "ABC Company L.L.C", "ein": 123456789,
           "giggleId": 89043762,
           "address": {"street1": "123 Main St.", "street2": "Suite 5.", "country": "USA",
                       "city": "Austin", "state": "TX", "zip": "22222"},
           "phone": {"number": "123-456-7890", "type": "mobile", "carrierVerified": true,
                     "carrierName": "AT&T"}
        }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn err(obj: &Map<String, Value>) -> String {
        match Customer::from_json(obj, today()) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn the_seed_example_is_valid_and_normalised() {
        let c = Customer::from_json(&seed(), today()).unwrap();
        assert_eq!(c.ssn, Some(Sensitive::Clear("123456789".into())));
        assert_eq!(c.ssn.as_ref().unwrap().last4(), "6789");
        assert_eq!(c.ein, Some(Sensitive::Clear("123456789".into())));
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            !json.contains("\"123456789\"") && !json.contains("ssn") && !json.contains("\"ein\""),
            "ssn and ein are never serialised with the record: {json}"
        );
        assert_eq!(c.phone.as_ref().unwrap().number, "1234567890");
        let mut other = seed();
        other.insert("ssn".into(), json!("321-54-9876"));
        let c = Customer::from_json(&other, today()).unwrap();
        assert!(
            !format!("{c:?}").contains("321549876"),
            "Debug must not show the SSN"
        );
    }

    #[test]
    fn missing_fields_are_named_together_in_table_order() {
        let mut o = seed();
        o.remove("ssn");
        assert_eq!(err(&o), "Did not provide 'ssn'");
        o.remove("email");
        assert_eq!(err(&o), "Did not provide 'email', 'ssn'");
        let mut c = seed();
        c.insert("customerType".into(), json!("company"));
        c.remove("ein");
        c.remove("companyName");
        assert_eq!(err(&c), "Did not provide 'ein', 'companyName'");
        let mut a = seed();
        a["address"].as_object_mut().unwrap().remove("zip");
        assert_eq!(err(&a), "Did not provide 'address.zip'");
        assert_eq!(err(&Map::new()), "Did not provide 'giggleId', 'active', 'customerType', 'name', 'surname', 'email', 'dob'");
    }

    #[test]
    fn every_field_rejects_bad_values_by_name() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("giggleId", json!(0), "'giggleId'"),
            ("giggleId", json!(9007199254740992u64), "'giggleId'"),
            ("giggleId", json!("89043762"), "'giggleId'"),
            ("giggleId", json!(1.5), "'giggleId'"),
            ("giggleId", json!(-4), "'giggleId'"),
            ("active", json!("true"), "'active'"),
            ("customerType", json!("Person"), "'customerType'"),
            ("name", json!("  "), "'name'"),
            ("name", json!("x".repeat(101)), "'name'"),
            ("surname", json!(42), "'surname'"),
            ("email", json!("not-an-email"), "'email'"),
            ("dob", json!("2024-02-30"), "'dob'"),
            ("dob", json!("2999-01-01"), "'dob'"),
            ("dob", json!("30/01/2000"), "'dob'"),
            ("ssn", json!("12345"), "'ssn'"),
            ("ssn", json!("666-12-3456"), "'ssn'"),
            ("ein", json!("12345"), "'ein'"),
            ("companyName", json!("x".repeat(201)), "'companyName'"),
            ("accessUserName", json!("johndoe"), "'accessUserName'"),
            ("address", json!("Austin"), "'address'"),
            ("phone", json!([1]), "'phone'"),
        ];
        for (field, value, named) in cases {
            let mut o = seed();
            o.insert(field.into(), value.clone());
            let m = err(&o);
            assert!(m.contains(named), "{field}={value}: {m}");
            assert!(!m.contains("123456789"), "an error echoed a number: {m}");
        }
        let nested: Vec<(&str, &str, Value)> = vec![
            ("address", "country", json!("US")),
            ("address", "state", json!("ZZ")),
            ("address", "zip", json!("2222")),
            ("address", "street1", json!("")),
            ("address", "city", json!(7)),
            ("phone", "number", json!("555-1234")),
            ("phone", "type", json!("home")),
            ("phone", "carrierVerified", json!("yes")),
            ("phone", "carrierName", json!(false)),
        ];
        for (object, field, value) in nested {
            let mut o = seed();
            o[object]
                .as_object_mut()
                .unwrap()
                .insert(field.into(), value.clone());
            let m = err(&o);
            assert!(
                m.contains(&format!("'{object}.{field}'")),
                "{object}.{field}={value}: {m}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut o = seed();
        o.insert("favouriteColour".into(), json!("blue"));
        assert_eq!(err(&o), "Unknown field 'favouriteColour'.");
        let mut a = seed();
        a["address"]
            .as_object_mut()
            .unwrap()
            .insert("State".into(), json!("TX"));
        assert_eq!(err(&a), "Unknown field 'address.State'.");
    }

    #[test]
    fn derived_access_user_name_and_foreign_addresses() {
        let mut o = seed();
        o.remove("accessUserName");
        o["address"] = json!({"street1": "1 High St", "city": "London", "state": "Greater London",
                               "zip": "SW1A 1AA", "country": "gbr"});
        let c = Customer::from_json(&o, today()).unwrap();
        assert_eq!(c.access_user_name, "john_doe");
        assert_eq!(c.address.unwrap().country, "GBR");
    }

    #[test]
    fn patch_merges_and_rechecks_the_whole_record() {
        let stored = Customer::from_json(&seed(), today()).unwrap();
        let p = |v: Value| v.as_object().unwrap().clone();
        let c = apply_patch(&stored, &p(json!({"address": {"city": "Dallas"}})), today()).unwrap();
        let a = c.address.as_ref().unwrap();
        assert_eq!(
            (a.city.as_str(), a.street1.as_str(), a.street2.as_deref()),
            ("Dallas", "123 Main St.", Some("Suite 5."))
        );
        let c = apply_patch(
            &stored,
            &p(json!({"address": {"street2": null}, "phone": null})),
            today(),
        )
        .unwrap();
        assert!(c.address.unwrap().street2.is_none() && c.phone.is_none());
        let bad = |v: Value| match apply_patch(&stored, &p(v), today()) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(bad(json!({})), "No fields to update.");
        assert!(bad(json!({"name": null})).contains("'name'"));
        assert!(bad(json!({"address": {"city": null}})).contains("'address.city'"));
        assert!(bad(json!({"giggleId": 5})).contains("'giggleId'"));
        assert!(bad(json!({"ssn": null})).contains("'ssn'"));
        assert_eq!(
            bad(json!({"customerType": "company", "ein": null})),
            "Did not provide 'ein'"
        );
        assert!(bad(json!({"nope": 1})).contains("'nope'"));
        assert!(bad(json!({"dob": "2024-02-30"})).contains("'dob'"));
        // The same id in the body is harmless.
        assert!(apply_patch(
            &stored,
            &p(json!({"giggleId": 89043762, "active": false})),
            today()
        )
        .is_ok());
        // Removing accessUserName derives it again from the (new) name.
        let c = apply_patch(
            &stored,
            &p(json!({"name": "Jane", "accessUserName": null})),
            today(),
        )
        .unwrap();
        assert_eq!(c.access_user_name, "jane_doe");
    }
}
