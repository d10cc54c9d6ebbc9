//! MCF's 43 job categories, by the exact display names the search body takes (a misspelt
//! name answers 400). Splitting a query by category is how whole-market coverage gets under
//! the 10,000-result cap.

/// Every category MCF offers, in the order of its website's filter.
pub const CATEGORIES: [&str; 43] = [
    "Accounting / Auditing / Taxation",
    "Admin / Secretarial",
    "Advertising / Media",
    "Architecture / Interior Design",
    "Banking and Finance",
    "Building and Construction",
    "Consulting",
    "Customer Service",
    "Design",
    "Education and Training",
    "Engineering",
    "Entertainment",
    "Environment / Health",
    "Events / Promotions",
    "F&B",
    "General Management",
    "General Work",
    "Healthcare / Pharmaceutical",
    "Hospitality",
    "Human Resources",
    "Information Technology",
    "Insurance",
    "Legal",
    "Logistics / Supply Chain",
    "Manufacturing",
    "Marketing / Public Relations",
    "Medical / Therapy Services",
    "Others",
    "Personal Care / Beauty",
    "Precision Engineering",
    "Professional Services",
    "Public / Civil Service",
    "Purchasing / Merchandising",
    "Real Estate / Property Management",
    "Repair and Maintenance",
    "Risk Management",
    "Sales / Retail",
    "Sciences / Laboratory / R&D",
    "Security and Investigation",
    "Social Services",
    "Telecommunications",
    "Travel / Tourism",
    "Wholesale Trade",
];

/// Whether `name` is one of MCF's category display names (exact, as MCF compares them).
pub fn is_category(name: &str) -> bool {
    CATEGORIES.contains(&name)
}
