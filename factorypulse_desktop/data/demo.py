"""Demo data: two job shops, `acme` and `globex`, with a person per role and every table filled.

`seed_demo` runs in one transaction as a superuser (row level security is forced on every table,
so only a role that bypasses it can write sample rows for two organizations). It is idempotent:
an organization that already exists is left alone, and so is a person that already exists.
Values are deterministic (one `random.Random` per organization); dates are relative to today.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, column, insert, table, text

from factorypulse_desktop.data import people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError

CHUNK_SIZE = 1048576
STAGE_SLUGS = (
    "inquiry_received", "technical_review", "supplier_rfq_sent", "quoted", "order_confirmed",
    "procurement_planning", "production", "completed",
)
# Where a new project starts, by intake type (ORIGIN.md 3, "How intake type routes").
INTAKE_START = {
    "rfq": "inquiry_received",
    "purchase_order": "order_confirmed",
    "project_idea": "technical_review",
    "direct_request": "inquiry_received",
}
# Who normally moves a project out of a stage.
STAGE_OWNER = {
    "inquiry_received": Role.SALES,
    "technical_review": Role.ENGINEERING,
    "supplier_rfq_sent": Role.PROCUREMENT,
    "quoted": Role.SALES,
    "order_confirmed": Role.SALES,
    "procurement_planning": Role.PROCUREMENT,
    "production": Role.QA,
    "completed": Role.SALES,
}
ADVANCE_COMMENTS = (
    "Exit criteria met.",
    "All checklist items done; moving on.",
    "Reviewed in the Monday planning meeting.",
    "Customer confirmed; next stage.",
    None,
)
PRIORITY_SCORE = {"low": 25, "medium": 50, "high": 72, "critical": 90}
USER_AGENT = "FactoryPulse Desktop/0.1 (Windows 11; x64)"


# --------------------------------------------------------------------------------------------
# Sample values
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonSpec:
    role: Role
    name: str
    department: str
    title: str
    phone: str


@dataclass(frozen=True)
class ContactSpec:
    company: str
    contact_name: str
    email: str
    phone: str
    address: str
    city: str
    state: str
    country: str
    postal_code: str
    website: str
    payment_terms: str
    credit_limit: int
    tags: tuple[str, ...]
    notes: str


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    description: str
    intake: str
    project_type: str
    stage: str
    status: str
    priority: str
    value: int
    age_days: int
    customer: int
    quantity: int
    material: str
    tags: tuple[str, ...]
    route: str = "normal"  # normal | skip | back
    intake_source: str = "portal"


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    category: str
    unit: str
    min_level: int
    max_level: int
    unit_cost: str
    supplier: int | None
    location: int
    typical_order: int


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    code: str
    seed: int
    domain: str
    industry: str
    description: str
    plan: str
    settings: Mapping[str, Any]
    currency: str
    people: tuple[PersonSpec, ...]
    customers: tuple[ContactSpec, ...]
    suppliers: tuple[ContactSpec, ...]
    partner: ContactSpec
    projects: tuple[ProjectSpec, ...]
    locations: tuple[tuple[str, str, str], ...]
    items: tuple[ItemSpec, ...]
    work_centers: tuple[tuple[str, str, str], ...]
    routing: tuple[tuple[str, int, int], ...]  # operation name, work center, minutes per lot
    bom: tuple[tuple[int, str], ...]  # inventory item, quantity per finished unit
    po_threshold: int
    extra_bucket: tuple[str, tuple[str, ...]]
    drive_client_id: str
    # Shop-specific wording: keys finish_option, first_article, fix, scrap, hold.
    phrases: Mapping[str, str]
    process_steps: tuple[str, ...]
    risks: Mapping[str, tuple[tuple[str, str, str, str], ...]]


P = ProjectSpec

ACME = OrgSpec(
    slug="acme",
    name="Acme Precision Manufacturing",
    code="ACM",
    seed=20261125,
    domain="acme-precision.example",
    industry="Precision CNC machining",
    description="Contract machining of aluminium and stainless parts for robotics, medical and "
    "aerospace customers; in-house anodizing partners and CMM inspection.",
    plan="growth",
    settings={
        "timezone": "America/Chicago",
        "currency": "USD",
        "language": "en",
        "date_format": "MM/DD/YYYY",
        "week_start": "sunday",
        "working_days": ["mon", "tue", "wed", "thu", "fri"],
        "shift_hours": {"start": "06:00", "end": "16:30"},
        "holidays": ["2026-12-24", "2026-12-25", "2027-01-01", "2027-05-31", "2027-07-05"],
        "units": "imperial",
    },
    currency="USD",
    people=(
        PersonSpec(Role.ADMIN, "Morgan Reyes", "IT", "Systems Administrator", "+1 815 555 0100"),
        PersonSpec(Role.MANAGEMENT, "Dana Whitfield", "Executive", "Operations Director",
                   "+1 815 555 0101"),
        PersonSpec(Role.SALES, "Alex Carter", "Sales", "Account Manager", "+1 815 555 0102"),
        PersonSpec(Role.ENGINEERING, "Priya Natarajan", "Engineering", "Manufacturing Engineer",
                   "+1 815 555 0103"),
        PersonSpec(Role.QA, "Sam Okafor", "Quality", "Quality Manager", "+1 815 555 0104"),
        PersonSpec(Role.PRODUCTION, "Luis Ortega", "Production", "Production Supervisor",
                   "+1 815 555 0105"),
        PersonSpec(Role.PROCUREMENT, "Grace Liu", "Procurement", "Purchasing Lead",
                   "+1 815 555 0106"),
        PersonSpec(Role.SUPPLIER, "Tom Becker", "Supplier", "Key Account Representative",
                   "+1 262 555 0177"),
        PersonSpec(Role.CUSTOMER, "Nina Patel", "Customer", "Senior Buyer", "+1 414 555 0142"),
    ),
    customers=(
        ContactSpec("Northwind Robotics", "Nina Patel", "nina.patel@northwind-robotics.example",
                    "+1 414 555 0142", "2200 W Lincoln Ave", "Milwaukee", "WI", "USA", "53215",
                    "https://northwind-robotics.example", "Net 30", 150000, ("robotics", "oem"),
                    "Key account since 2019; quarterly business review with the buyer."),
        ContactSpec("Bluewater Marine Systems", "Derek Holm", "d.holm@bluewater-marine.example",
                    "+1 218 555 0190", "14 Harbor Dr", "Duluth", "MN", "USA", "55802",
                    "https://bluewater-marine.example", "Net 45", 80000, ("marine",),
                    "Prefers 316 stainless; asks for material certs with every lot."),
        ContactSpec("Summit Medical Devices", "Rachel Kim", "rkim@summit-meddev.example",
                    "+1 612 555 0133", "900 Washington Ave S", "Minneapolis", "MN", "USA",
                    "55415", "https://summit-meddev.example", "Net 30", 120000,
                    ("medical", "iso13485"), "ISO 13485 supplier audit passed in March."),
        ContactSpec("Redline Motorsports", "Jake Moreno", "jake@redline-motorsports.example",
                    "+1 317 555 0111", "4790 W 16th St", "Indianapolis", "IN", "USA", "46222",
                    "https://redline-motorsports.example", "Prepaid", 25000, ("motorsport",),
                    "Short lead times around race season; pays up front."),
        ContactSpec("Cascade Aerospace Components", "Olivia Grant",
                    "ogrant@cascade-aero.example", "+1 316 555 0164", "1 Airport Rd",
                    "Wichita", "KS", "USA", "67209", "https://cascade-aero.example", "Net 60",
                    250000, ("aerospace", "as9100"), "AS9100 flow-down clauses on every PO."),
    ),
    suppliers=(
        ContactSpec("TrueCut CNC Services", "Tom Becker", "tom.becker@truecut-cnc.example",
                    "+1 262 555 0177", "310 Industrial Pkwy", "Waukesha", "WI", "USA", "53186",
                    "https://truecut-cnc.example", "Net 30", 0, ("cnc", "5-axis", "machining"),
                    "Overflow 5-axis capacity; good on tight tolerances."),
        ContactSpec("Midwest Anodizing Inc.", "Carla Jensen", "carla@midwest-anodizing.example",
                    "+1 708 555 0150", "55 Commerce St", "Elk Grove Village", "IL", "USA",
                    "60007", "https://midwest-anodizing.example", "Net 30", 0,
                    ("anodizing", "type_ii", "type_iii", "finishing"),
                    "Type II and hard anodize; 5-day standard turnaround."),
        ContactSpec("Precision Metals Supply Co.", "Victor Hale",
                    "orders@precision-metals.example", "+1 312 555 0120", "1800 S Canal St",
                    "Chicago", "IL", "USA", "60616", "https://precision-metals.example",
                    "Net 30", 0, ("raw_material", "aluminum", "stainless"),
                    "Mill certs supplied; next-day delivery inside Chicagoland."),
        ContactSpec("Ironclad Welding & Fab", "Ray Donovan", "ray@ironclad-fab.example",
                    "+1 815 555 0188", "72 Forge Rd", "Rockford", "IL", "USA", "61109",
                    "https://ironclad-fab.example", "Net 15", 0, ("welding", "sheet_metal"),
                    "TIG aluminium and stainless welding; AWS D1.2 certified welders."),
        ContactSpec("Keystone Fasteners", "Ellen Voss", "sales@keystone-fasteners.example",
                    "+1 630 555 0109", "400 Bolt Ln", "Naperville", "IL", "USA", "60563",
                    "https://keystone-fasteners.example", "Net 30", 0, ("fasteners", "inserts"),
                    "Stocks A4 stainless fasteners and helicoil inserts."),
    ),
    partner=ContactSpec("Great Lakes Heat Treating", "Oscar Lindqvist",
                        "oscar@glheattreat.example", "+1 414 555 0199", "8 Furnace Ct",
                        "West Allis", "WI", "USA", "53214", "https://glheattreat.example",
                        "Net 30", 0, ("heat_treatment", "partner"),
                        "Partner for solution heat treatment and aging (T6)."),
    projects=(
        P("Robot gripper finger set, 6061-T6 anodized",
          "Set of 4 gripper fingers for the NR-7 palletizing robot; black Type II anodize.",
          "rfq", "fabrication", "inquiry_received", "active", "medium", 18500, 3, 0, 240,
          "6061-T6 aluminium", ("cnc", "anodizing", "robotics")),
        P("Replacement pump housing, 316 stainless",
          "Urgent one-off replacement for a cracked pump housing; customer supplies the old part.",
          "direct_request", "fabrication", "inquiry_received", "active", "high", 7200, 5, 1, 2,
          "316 stainless", ("stainless", "urgent-repair"), intake_source="phone"),
        P("Surgical tray bracket prototype",
          "Design-for-manufacture study and 10 prototypes of a sterilizable tray bracket.",
          "project_idea", "system_build", "technical_review", "active", "low", 24000, 9, 2, 10,
          "17-4PH stainless", ("medical", "prototype"), intake_source="email"),
        P("Steering wheel quick-release hub",
          "Quick-release hub, 7075-T6, hard anodized; 40 units for the spring season.",
          "rfq", "fabrication", "technical_review", "active", "medium", 12800, 14, 3, 40,
          "7075-T6 aluminium", ("motorsport", "cnc")),
        P("Avionics enclosure, 200 pcs",
          "Machined avionics enclosure with EMI gasket groove; chem film and paint.",
          "rfq", "fabrication", "supplier_rfq_sent", "on_hold", "high", 46000, 21, 4, 200,
          "6061-T6 aluminium", ("aerospace", "sheet_metal", "anodizing")),
        P("Repeat order: conveyor guide rails",
          "Repeat of job 2025-114; same drawing revision, 60 rails.",
          "direct_request", "manufacturing", "quoted", "active", "medium", 9600, 18, 0, 60,
          "UHMW-PE and 6061 aluminium", ("repeat-order",), "skip", "email"),
        P("Modular test fixture for leak testing",
          "Pneumatic leak-test fixture for catheter hubs; quick-change nests.",
          "project_idea", "system_build", "quoted", "active", "medium", 31500, 40, 2, 2,
          "6061 aluminium and acetal", ("fixture", "medical"), "back", "email"),
        P("PO 4500021877: actuator brackets",
          "Customer PO for 300 actuator brackets per drawing NR-2210 rev D.",
          "purchase_order", "manufacturing", "order_confirmed", "active", "high", 22400, 6, 0,
          300, "6061-T6 aluminium", ("cnc",), intake_source="email"),
        P("PO NW-2291: gearbox covers, 500 pcs",
          "Machined gearbox covers from customer-supplied castings; 500 pcs in 5 lots.",
          "purchase_order", "manufacturing", "procurement_planning", "active", "high", 58750, 16,
          1, 500, "A356 cast aluminium", ("cast-machining", "cnc"), intake_source="email"),
        P("Wing rib machining, batch 2",
          "Second batch of 5-axis machined wing ribs; first article inspection per AS9102.",
          "rfq", "fabrication", "production", "active", "critical", 74300, 65, 4, 80,
          "7050-T7451 aluminium", ("aerospace", "5-axis", "as9100")),
        P("PO 7731: hydraulic manifold blocks",
          "Cross-drilled hydraulic manifold blocks, pressure tested to 350 bar.",
          "purchase_order", "manufacturing", "production", "active", "high", 39900, 30, 1, 120,
          "6061-T6 aluminium", ("hydraulics", "cnc"), intake_source="api"),
        P("Camera mount kit for inspection robot",
          "Adjustable camera mount kit, anodized, with fasteners and foam packaging.",
          "rfq", "fabrication", "completed", "completed", "medium", 15250, 90, 0, 50,
          "6061-T6 aluminium", ("robotics", "anodizing")),
        P("Titanium bone plate feasibility",
          "Feasibility of machining Ti-6Al-4V bone plates in-house; needs Swiss-type lathe.",
          "project_idea", "system_build", "technical_review", "cancelled", "low", 41000, 35, 2,
          25, "Ti-6Al-4V", ("medical", "titanium"), intake_source="walk_in"),
    ),
    locations=(
        ("RAW", "Raw material racks", "Bar and plate stock, south wall"),
        ("MAIN", "Main stores", "Fasteners, tooling and consumables"),
        ("WIP", "Work in progress cage", "Parts between operations"),
        ("FG", "Finished goods and shipping", "Packed parts waiting for pickup"),
        ("QC", "QC quarantine", "Held parts awaiting disposition"),
    ),
    items=(
        ItemSpec("AL6061-BAR-50", "Aluminium 6061-T6 bar, 50 mm", "raw_material", "m", 20, 200,
                 "18.40", 2, 0, 120),
        ItemSpec("AL6061-PLT-12", "Aluminium 6061-T6 plate, 12 mm", "raw_material", "kg", 50, 800,
                 "6.85", 2, 0, 400),
        ItemSpec("SS316-BAR-25", "Stainless 316 bar, 25 mm", "raw_material", "m", 10, 80,
                 "27.10", 2, 0, 40),
        ItemSpec("FST-M6X20-A4", "Socket head cap screw M6x20, A4 stainless", "fasteners", "pcs",
                 500, 6000, "0.14", 4, 1, 3000),
        ItemSpec("INS-HELI-M5", "Helicoil insert M5 x 1.5D", "fasteners", "pcs", 200, 3000,
                 "0.42", 4, 1, 1000),
        ItemSpec("TOOL-EM-10-4F", "Carbide end mill 10 mm, 4 flute", "tooling", "pcs", 5, 40,
                 "38.00", 0, 1, 20),
        ItemSpec("PKG-FOAM-400", "Foam-lined shipping box 400 x 300", "packaging", "pcs", 20, 300,
                 "4.75", None, 3, 100),
        ItemSpec("FG-CAM-MOUNT", "Camera mount kit (finished)", "finished_goods", "pcs", 0, 60,
                 "64.00", None, 3, 50),
    ),
    work_centers=(
        ("CNC-3AX", "Haas VF-4 3-axis mill", "Vertical machining center, 50 x 20 in table"),
        ("CNC-5AX", "DMU 50 5-axis mill", "Simultaneous 5-axis, probing"),
        ("LATHE", "Okuma LB3000 lathe", "Turning with live tooling"),
        ("DEBURR", "Deburr and wash", "Manual deburr, ultrasonic wash"),
        ("CMM", "Zeiss Contura CMM", "Coordinate measuring machine, temperature-controlled room"),
        ("ASSY", "Assembly bench", "Kitting, assembly and packaging"),
    ),
    routing=(
        ("Saw and rough machining", 0, 240),
        ("5-axis finish machining", 1, 420),
        ("Deburr and wash", 3, 90),
        ("CMM inspection", 4, 60),
        ("Pack and label", 5, 45),
    ),
    bom=((0, "0.35"), (3, "4"), (6, "0.1")),
    po_threshold=10000,
    extra_bucket=("drawings", ("application/pdf", "image/vnd.dxf", "model/step")),
    drive_client_id="1234-demo.apps.googleusercontent.com",
    phrases={
        "finish_option": "a second option with a clear anodize instead of black",
        "first_article": "CAM programs are ready; first article on the 5-axis.",
        "fix": "Please use the soft jaws from now on",
        "scrap": "clamping marks on the datum face",
        "hold": "Held: waiting for the anodizer's capacity slot.",
    },
    process_steps=(
        "Saw blanks; mark the heat number on every blank.",
        "Machine per CAM program rev 3; first part to the CMM.",
        "Deburr, wash and dry. No burrs on sealing faces.",
        "Anodize per MIL-A-8625 Type II, class 2 black; masking per drawing note 7.",
        "100 % visual inspection, 10 % dimensional sampling (AQL 1.0).",
    ),
    risks={
        "engineering": (
            ("technical", "medium", "Thin wall (1.2 mm) may chatter during finishing.",
             "Use a dedicated fixture and reduce step-over."),
            ("timeline", "low", "Drawing revision pending for one hole pattern.",
             "Freeze the revision before programming."),
        ),
        "qa": (
            ("quality", "medium", "Flatness 0.05 mm over 300 mm is at the edge of capability.",
             "Stress-relieve the blanks and measure on the CMM."),
            ("quality", "low", "Cosmetic requirements for the anodized faces are unclear.",
             "Agree a limit sample with the customer."),
        ),
        "production": (
            ("timeline", "high", "5-axis machine load is 95 % in the requested weeks.",
             "Offer a split delivery or outsource roughing."),
            ("cost", "medium", "Set-up time is high for small lots.",
             "Quote a minimum lot size."),
        ),
        "management": (
            ("cost", "medium", "Aluminium prices volatile; quote valid 30 days only.",
             "Add a material surcharge clause."),
        ),
        "quality": (
            ("quality", "low", "First article inspection report (AS9102) before shipment.",
             "Plan FAI on the first 5 parts."),
        ),
    },
)

GLOBEX = OrgSpec(
    slug="globex",
    name="Globex Fabrication",
    code="GLX",
    seed=20261126,
    domain="globex-fab.example",
    industry="Sheet metal fabrication and welding",
    description="Laser cutting, press brake forming and welded assemblies in steel and "
    "stainless for energy, rail and agricultural OEMs.",
    plan="enterprise",
    settings={
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "language": "en",
        "date_format": "DD.MM.YYYY",
        "week_start": "monday",
        "working_days": ["mon", "tue", "wed", "thu", "fri"],
        "shift_hours": {"start": "07:00", "end": "15:30"},
        "holidays": ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01", "2027-05-01"],
        "units": "metric",
    },
    currency="EUR",
    people=(
        PersonSpec(Role.ADMIN, "Jordan Lee", "IT", "IT Administrator", "+49 341 555 2100"),
        PersonSpec(Role.MANAGEMENT, "Helena Schmidt", "Executive", "Managing Director",
                   "+49 341 555 2101"),
        PersonSpec(Role.SALES, "Marco Rossi", "Sales", "Key Account Manager", "+49 341 555 2102"),
        PersonSpec(Role.ENGINEERING, "Ingrid Larsen", "Engineering", "Design Engineer",
                   "+49 341 555 2103"),
        PersonSpec(Role.QA, "Kenji Watanabe", "Quality", "Welding and QA Engineer",
                   "+49 341 555 2104"),
        PersonSpec(Role.PRODUCTION, "Pavel Novak", "Production", "Shop Floor Lead",
                   "+49 341 555 2105"),
        PersonSpec(Role.PROCUREMENT, "Sofia Almeida", "Procurement", "Strategic Buyer",
                   "+49 341 555 2106"),
        PersonSpec(Role.SUPPLIER, "Erik Johansson", "Supplier", "Sales Engineer",
                   "+46 40 555 3120"),
        PersonSpec(Role.CUSTOMER, "Claire Dubois", "Customer", "Purchasing Manager",
                   "+33 4 55 55 01 20"),
    ),
    customers=(
        ContactSpec("Lumiere Agritech SAS", "Claire Dubois", "claire.dubois@lumiere-agri.example",
                    "+33 4 55 55 01 20", "12 Rue de la Moisson", "Lyon", "", "France", "69007",
                    "https://lumiere-agri.example", "30 days net", 180000, ("agriculture", "oem"),
                    "Framework agreement 2026-2028; call-offs monthly."),
        ContactSpec("Nordic Energy Systems AB", "Lars Eklund", "lars.eklund@nordic-energy.example",
                    "+46 31 555 0170", "Lindholmspiren 9", "Gothenburg", "", "Sweden", "41756",
                    "https://nordic-energy.example", "45 days net", 220000,
                    ("energy", "battery_storage"), "Needs EN 1090 EXC2 documentation."),
        ContactSpec("Alpine Rail Components AG", "Beat Keller", "beat.keller@alpine-rail.example",
                    "+41 52 555 0133", "Zuercherstrasse 44", "Winterthur", "", "Switzerland",
                    "8400", "https://alpine-rail.example", "60 days net", 140000,
                    ("rail", "en15085"), "Welding to EN 15085 CL1; customs paperwork for CH."),
        ContactSpec("Helios Solar Structures GmbH", "Anna Vogel", "a.vogel@helios-solar.example",
                    "+49 761 555 0188", "Solarweg 3", "Freiburg", "BW", "Germany", "79108",
                    "https://helios-solar.example", "30 days net", 90000, ("solar",),
                    "Hot-dip galvanized parts only; seasonal peaks in spring."),
        ContactSpec("Baltic Shipyards Sp. z o.o.", "Piotr Zielinski",
                    "p.zielinski@baltic-shipyards.example", "+48 58 555 0111", "ul. Doki 1",
                    "Gdansk", "", "Poland", "80-958", "https://baltic-shipyards.example",
                    "45 days net", 160000, ("marine", "shipbuilding"),
                    "Class society (DNV) inspection on site for deck equipment."),
    ),
    suppliers=(
        ContactSpec("Svea Laser & Bending AB", "Erik Johansson",
                    "erik.johansson@svea-laser.example", "+46 40 555 3120", "Industrigatan 18",
                    "Malmo", "", "Sweden", "21214",
                    "https://svea-laser.example", "30 days net", 0,
                    ("laser_cutting", "sheet_metal", "bending"),
                    "Overflow laser capacity up to 25 mm steel."),
        ContactSpec("Pulverbeschichtung Meyer GmbH", "Jonas Meyer", "j.meyer@pb-meyer.example",
                    "+49 341 555 7710", "Lackierstrasse 5", "Leipzig", "SN", "Germany", "04319",
                    "https://pb-meyer.example", "14 days net", 0,
                    ("powder_coating", "finishing"), "RAL colours in 5 working days."),
        ContactSpec("Stahlhandel Ost GmbH", "Katrin Bauer", "bestellung@stahl-ost.example",
                    "+49 345 555 9000", "Hafenstrasse 80", "Halle", "ST", "Germany", "06108",
                    "https://stahl-ost.example", "30 days net", 0,
                    ("raw_material", "steel", "stainless"), "Cut-to-size service for plate."),
        ContactSpec("Danube Galvanizing Kft.", "Gabor Nagy", "gabor.nagy@danube-galv.example",
                    "+36 1 555 4420", "Csepel ut 12", "Budapest", "", "Hungary", "1211",
                    "https://danube-galv.example", "30 days net", 0, ("galvanizing",),
                    "Hot-dip galvanizing to EN ISO 1461, kettle 7 m."),
        ContactSpec("Fixtec Fasteners BV", "Pieter de Vries", "orders@fixtec.example",
                    "+31 10 555 6060", "Havenweg 21", "Rotterdam", "", "Netherlands", "3089",
                    "https://fixtec.example", "30 days net", 0, ("fasteners", "welding"),
                    "Also supplies MIG wire and shielding gas."),
    ),
    partner=ContactSpec("Saxony Weld Inspection GmbH", "Uwe Hartmann", "u.hartmann@swi.example",
                        "+49 351 555 4040", "Pruefweg 2", "Dresden", "SN", "Germany", "01109",
                        "https://swi.example", "30 days net", 0, ("ndt", "partner"),
                        "Third-party NDT (MT/UT) and welder qualification."),
    projects=(
        P("Grain dryer access platform",
          "Galvanized access platform with stairs and handrails for a 12 m grain dryer.",
          "rfq", "fabrication", "inquiry_received", "active", "medium", 27000, 2, 0, 4,
          "S235 steel, hot-dip galvanized", ("agriculture", "welding", "galvanizing")),
        P("Battery cabinet frames, IP55",
          "Welded frames for outdoor battery cabinets; powder coated RAL 7035.",
          "direct_request", "manufacturing", "inquiry_received", "active", "high", 64000, 4, 1,
          150, "S355 steel", ("energy", "powder_coating"), intake_source="email"),
        P("Bogie sand box redesign",
          "Redesign of a sand box for bogies to cut weld length by a third.",
          "project_idea", "system_build", "technical_review", "active", "low", 18000, 11, 2, 20,
          "S355 steel", ("rail", "redesign"), intake_source="walk_in"),
        P("Solar tracker torque tube brackets",
          "Laser-cut and formed brackets, 5 mm, hot-dip galvanized; 2,000 pcs per year.",
          "rfq", "fabrication", "technical_review", "active", "medium", 41500, 7, 3, 2000,
          "S355 steel", ("solar", "laser_cutting", "galvanizing")),
        P("Deck hatch covers, S355 galvanized",
          "Hinged deck hatch covers with gasket channel, class-approved welding.",
          "rfq", "fabrication", "supplier_rfq_sent", "active", "high", 52300, 19, 4, 24,
          "S355 steel", ("marine", "galvanizing", "welding")),
        P("Repeat order: harvester shield panels",
          "Repeat of order 2025-0871, unchanged drawings; 300 panels.",
          "direct_request", "manufacturing", "quoted", "active", "medium", 11900, 15, 0, 300,
          "S235 steel", ("repeat-order", "agriculture"), "skip", "phone"),
        P("Welded skid for hydrogen electrolyser",
          "Stainless base skid with drip tray and lifting lugs for a 1 MW electrolyser.",
          "project_idea", "system_build", "quoted", "on_hold", "high", 96000, 45, 1, 1,
          "1.4301 stainless", ("energy", "stainless", "welding"), "back", "email"),
        P("PO 2026-118: cable tray brackets",
          "Call-off of 1,200 cable tray brackets from the framework agreement.",
          "purchase_order", "manufacturing", "order_confirmed", "active", "medium", 8400, 3, 3,
          1200, "S235 steel, pre-galvanized", ("solar", "laser_cutting"), intake_source="api"),
        P("PO ARC-5521: cab step assemblies",
          "Welded step assemblies for driver cabs, EN 15085 CL1.",
          "purchase_order", "manufacturing", "procurement_planning", "active", "high", 33600, 20,
          2, 60, "S355 steel", ("rail", "welding"), intake_source="email"),
        P("Inverter housing weldments, lot 3",
          "Third lot of inverter housing weldments with powder coat and EMC gaskets.",
          "rfq", "fabrication", "production", "active", "critical", 71000, 58, 1, 90,
          "S355 steel", ("energy", "welding", "powder_coating")),
        P("PO 88410: mooring bollard bases",
          "Heavy welded bollard bases, 20 mm plate, MT-tested welds.",
          "purchase_order", "manufacturing", "production", "active", "high", 44200, 27, 4, 16,
          "S355J2 steel", ("marine", "welding", "ndt"), intake_source="email"),
        P("Feeder hopper, stainless 1.4301",
          "Stainless feeder hopper with bolted lid and inspection hatch.",
          "rfq", "fabrication", "completed", "completed", "medium", 23700, 84, 0, 6,
          "1.4301 stainless", ("agriculture", "stainless")),
        P("Prototype trailer chassis",
          "Lightweight trailer chassis prototype; customer wanted aluminium welding too.",
          "project_idea", "system_build", "technical_review", "cancelled", "low", 55000, 33, 3, 1,
          "S420 steel and aluminium", ("prototype", "welding"), intake_source="email"),
    ),
    locations=(
        ("LAGER-A", "Sheet store, hall A", "Sheet and plate racks"),
        ("LAGER-B", "Consumables store", "Fasteners, wire and gas"),
        ("WIP", "Weld shop WIP", "Parts between cutting, bending and welding"),
        ("VERSAND", "Dispatch area", "Packed goods ready for the truck"),
        ("SPERR", "Blocked stock (QA)", "Non-conforming parts awaiting decision"),
    ),
    items=(
        ItemSpec("S355-SHT-3", "Steel sheet S355, 3 mm, 1500 x 3000", "raw_material", "sheet", 10,
                 120, "96.00", 2, 0, 60),
        ItemSpec("S235-SHT-5", "Steel sheet S235, 5 mm, 1500 x 3000", "raw_material", "sheet", 8,
                 80, "141.50", 2, 0, 40),
        ItemSpec("SS304-SHT-2", "Stainless 1.4301 sheet, 2 mm", "raw_material", "sheet", 5, 40,
                 "188.00", 2, 0, 20),
        ItemSpec("RHS-80X40X4", "Rectangular tube 80 x 40 x 4, S355", "raw_material", "m", 30,
                 400, "9.80", 2, 0, 200),
        ItemSpec("WIRE-G3SI1-10", "MIG wire G3Si1 1.0 mm, 15 kg spool", "consumables", "spool",
                 4, 40, "42.00", 4, 1, 20),
        ItemSpec("FST-M10-HDG", "Hex bolt M10 x 30, 8.8, hot-dip galvanized", "fasteners", "pcs",
                 400, 5000, "0.22", 4, 1, 2500),
        ItemSpec("GAS-ARCO2-50", "Argon/CO2 82/18 cylinder, 50 l", "consumables", "cyl", 2, 12,
                 "58.00", None, 1, 6),
        ItemSpec("FG-HOPPER-4301", "Feeder hopper, stainless (finished)", "finished_goods",
                 "pcs", 0, 10, "1850.00", None, 3, 6),
    ),
    work_centers=(
        ("LASER", "TruLaser 3030 fiber", "6 kW fiber laser, 3000 x 1500 sheet"),
        ("BEND", "TruBend 5130 press brake", "130 t, 3 m bending length"),
        ("WELD-MIG", "MIG welding cell", "Two manual MIG stations with fume extraction"),
        ("WELD-ROB", "Robot welding cell", "Six-axis robot on a two-station positioner"),
        ("GRIND", "Grinding and finishing", "Weld dressing, deburring"),
        ("INSP", "Final inspection", "Dimensional check and visual weld inspection"),
    ),
    routing=(
        ("Laser cut blanks", 0, 120),
        ("Press brake forming", 1, 180),
        ("Robot weld frame", 3, 300),
        ("Grind and dress welds", 4, 150),
        ("Final inspection", 5, 60),
    ),
    bom=((0, "0.5"), (3, "2.4"), (5, "8")),
    po_threshold=8000,
    extra_bucket=("quality-records", ("application/pdf", "text/csv", "image/jpeg")),
    drive_client_id="5678-demo.apps.googleusercontent.com",
    phrases={
        "finish_option": "a second option powder coated RAL 7016 instead of galvanized",
        "first_article": "Bending plan and robot program are ready; first part on the "
                         "robot welding cell.",
        "fix": "Please use the new clamping fixture and the revised weld sequence",
        "scrap": "burn-through at the corner weld",
        "hold": "Held: waiting for a kettle slot at the galvanizer.",
    },
    process_steps=(
        "Laser cut per DXF rev 2; keep the heat number on every part.",
        "Bend per bending plan BP-114; check angles on the first part.",
        "Robot weld per WPS-114 (EN ISO 15614-1); visual inspection of all welds.",
        "Grind spatter and sharp edges; vent holes open for galvanizing.",
        "Powder coat RAL 7035, minimum 80 um; adhesion test per lot.",
    ),
    risks={
        "engineering": (
            ("technical", "medium", "Weld distortion on the 3 mm side panels may exceed "
             "flatness.", "Stitch-weld sequence and a clamping fixture."),
            ("timeline", "low", "Bend radius on the drawing differs from our tooling.",
             "Agree R = 4 mm with the customer."),
        ),
        "qa": (
            ("quality", "medium", "EN 1090 EXC2 needs a qualified WPS for this joint type.",
             "Qualify the procedure with the NDT partner."),
            ("quality", "low", "Galvanizing vent holes are not shown on the drawing.",
             "Add vent and drain holes; confirm with the customer."),
        ),
        "production": (
            ("timeline", "high", "Robot welding cell is booked in the requested weeks.",
             "Move to the manual MIG cell or split the lot."),
            ("cost", "medium", "Laser nesting yield is below 70 % for this part.",
             "Nest with other orders or change the sheet size."),
        ),
        "management": (
            ("cost", "medium", "Steel surcharge changes monthly; quote valid 30 days only.",
             "Add a steel surcharge clause."),
        ),
        "quality": (
            ("quality", "low", "Weld inspection report (VT, 10 % MT) needed before dispatch.",
             "Book the NDT partner in advance."),
        ),
    },
)

ORGS = (ACME, GLOBEX)


@dataclass(frozen=True)
class DemoSummary:
    organizations_created: int
    persons_created: int
    rows_inserted: int  # total data rows this run inserted (0 on a second run)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
Row = dict[str, Any]


def _adapt(value: Any) -> Any:
    return Jsonb(dict(value)) if isinstance(value, Mapping) else value


def _insert(conn: Connection, table_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT the rows with bind parameters; rows with the same keys go in one executemany."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append({k: _adapt(v) for k, v in row.items()})
    for columns, params in groups.items():
        statement = insert(table(table_name, *(column(c) for c in columns)))
        conn.execute(statement, params)


def _money(value: Decimal | float | int | str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _new_id() -> uuid.UUID:
    return uuid.uuid4()


def _username(slug: str, role: Role) -> str:
    return f"{slug}.{role.value}"


def _display_name(spec: PersonSpec) -> str:
    label = "QA" if spec.role is Role.QA else spec.role.value.capitalize()
    return f"{spec.name} ({label})"


def _person_email(org: OrgSpec, spec: PersonSpec) -> str:
    return spec.name.lower().replace(" ", ".") + "@" + org.domain


# --------------------------------------------------------------------------------------------
# Real file contents (small and valid)
# --------------------------------------------------------------------------------------------
def _pdf_escape(line: str) -> str:
    ascii_line = line.encode("ascii", "replace").decode("ascii")
    return ascii_line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A one-page PDF 1.4 with Helvetica text, built by hand with a correct xref table."""
    ops = ["BT", "/F1 16 Tf", "56 780 Td", f"({_pdf_escape(title)}) Tj", "/F1 10 Tf", "0 -28 Td"]
    for line in lines:
        ops.append(f"({_pdf_escape(line)}) Tj")
        ops.append("0 -14 Td")
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Title (" + _pdf_escape(title).encode("ascii")
        + b") /Producer (Factory Pulse demo) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _cmm_export(rng: random.Random, part: str, points: int) -> bytes:
    """A CMM point export a little over 1 MiB, so its bytes span two chunks."""
    lines = [f"# CMM point cloud export, part {part}, probe 3 mm ruby, 20.0 C",
             "point_id,feature,x_mm,y_mm,z_mm,nominal_dev_mm,in_tolerance"]
    for i in range(points):
        dev = rng.gauss(0, 0.008)
        lines.append(
            f"{i + 1},F{(i // 250) + 1:03d},{rng.uniform(0, 400):.4f},{rng.uniform(0, 250):.4f},"
            f"{rng.uniform(-40, 0):.4f},{dev:+.4f},{'Y' if abs(dev) < 0.025 else 'N'}"
        )
    return ("\n".join(lines) + "\n").encode("ascii")


# --------------------------------------------------------------------------------------------
# The seeding context of one organization
# --------------------------------------------------------------------------------------------
@dataclass
class Project:
    id: uuid.UUID
    spec: ProjectSpec
    number: str
    created_at: datetime
    customer_id: uuid.UUID
    visits: list[tuple[str, datetime]] = field(default_factory=list)  # (stage slug, entered)
    skipped: list[str] = field(default_factory=list)

    @property
    def stage_index(self) -> int:
        return STAGE_SLUGS.index(self.spec.stage)

    def visited(self, slug: str) -> bool:
        return any(s == slug for s, _ in self.visits)


@dataclass
class Ctx:
    conn: Connection
    org: OrgSpec
    org_id: uuid.UUID
    now: datetime
    rng: random.Random
    people: dict[Role, uuid.UUID] = field(default_factory=dict)
    customers: list[uuid.UUID] = field(default_factory=list)
    suppliers: list[uuid.UUID] = field(default_factory=list)
    stages: dict[str, uuid.UUID] = field(default_factory=dict)
    stage_roles: dict[str, list[str]] = field(default_factory=dict)
    sub_stages: dict[str, list[tuple[uuid.UUID, int, list[str], str]]] = field(
        default_factory=dict)
    projects: list[Project] = field(default_factory=list)
    buckets: dict[str, uuid.UUID] = field(default_factory=dict)
    objects: dict[str, uuid.UUID] = field(default_factory=dict)  # sha256 -> storage object
    locations: list[uuid.UUID] = field(default_factory=list)
    items: list[uuid.UUID] = field(default_factory=list)
    work_centers: list[uuid.UUID] = field(default_factory=list)
    rfqs: list[Row] = field(default_factory=list)
    quotes: list[Row] = field(default_factory=list)
    pos: list[Row] = field(default_factory=list)
    po_lines: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    operations: dict[uuid.UUID, list[Row]] = field(default_factory=dict)
    materials: list[Row] = field(default_factory=list)
    movements: list[Row] = field(default_factory=list)
    documents: dict[str, Row] = field(default_factory=dict)
    approvals: dict[str, Row] = field(default_factory=dict)
    activity: list[Row] = field(default_factory=list)

    def who(self, role: Role) -> uuid.UUID:
        return self.people[role]

    def role_of(self, person: uuid.UUID) -> Role:
        return next(role for role, pid in self.people.items() if pid == person)

    def ago(self, days: float, hours: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def today(self) -> date:
        return self.now.date()

    def project(self, stage: str, intake: str | None = None, status: str | None = None
                ) -> Project:
        for project in self.projects:
            if project.spec.stage == stage and (intake is None or project.spec.intake == intake) \
                    and (status is None or project.spec.status == status):
                return project
        raise LookupError(f"no demo project in {stage}/{intake}/{status}")

    def log(self, action: str, entity_type: str, entity_id: uuid.UUID | None, description: str,
            actor: Role, at: datetime, project: Project | None = None,
            metadata: Mapping[str, Any] | None = None,
            changes: Mapping[str, Any] | None = None) -> None:
        self.activity.append({
            "id": _new_id(), "organization_id": self.org_id, "actor_id": self.who(actor),
            "entity_type": entity_type, "entity_id": entity_id, "action": action,
            "description": description, "changes": changes, "metadata": dict(metadata or {}),
            "project_id": project.id if project else None, "occurred_at": at,
            "created_at": at,
        })


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------
def seed_demo(engine: sqlalchemy.Engine, password: str = "factorypulse-demo") -> DemoSummary:
    """Create the demo organizations `acme` and `globex` with sample data in every table.

    Runs in one transaction; an organization or person that already exists is left untouched,
    so a second run inserts nothing and returns zeros. Logins are cluster-wide: a login
    `<slug>.<role>` that already exists in the cluster (seeded into another database) becomes
    the person of this database as it is, with its current password.
    """
    organizations = 0
    persons = 0
    with engine.begin() as conn:
        _require_bypass(conn)
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('factorypulse.seed_demo'))"))
        # The seed writes its own backdated stage history (owner-only import mode).
        conn.execute(text("SELECT set_config('fp.import_mode', 'on', true)"))
        tables = _public_tables(conn)
        before = _row_count(conn, tables)
        now = conn.execute(text("SELECT date_trunc('second', now())")).scalar_one()
        for spec in ORGS:
            exists = conn.execute(
                text("SELECT 1 FROM organizations WHERE slug = :slug"), {"slug": spec.slug}
            ).first()
            if exists:
                continue
            persons += _seed_organization(conn, spec, password, now)
            organizations += 1
        after = _row_count(conn, tables)
    return DemoSummary(organizations, persons, after - before)


def _require_bypass(conn: Connection) -> None:
    row = conn.execute(
        text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).scalar_one_or_none()
    if not row:
        raise UserFacingError(
            "Demo data can only be loaded by a database superuser: row level security is "
            "forced on every table."
        )


def _public_tables(conn: Connection) -> list[str]:
    rows = conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'alembic_version' ORDER BY 1"
    )).scalars()
    return list(rows)


def _row_count(conn: Connection, tables: Sequence[str]) -> int:
    if not tables:
        return 0
    quote = conn.dialect.identifier_preparer.quote
    # Table names come from the catalog and are quoted as identifiers; no values are formatted.
    query = " + ".join(f"(SELECT count(*) FROM public.{quote(t)})" for t in tables)
    return int(conn.execute(text(f"SELECT {query}")).scalar_one())


def _seed_organization(conn: Connection, spec: OrgSpec, password: str, now: datetime) -> int:
    org = people.create_organization(conn, spec.slug, spec.name)
    conn.execute(
        text(
            "UPDATE organizations SET domain = :domain, industry = :industry, "
            "description = :description, settings = :settings, "
            "subscription_plan = CAST(:plan AS subscription_plan), "
            "logo_url = :logo WHERE id = :id"
        ),
        {"domain": spec.domain, "industry": spec.industry, "description": spec.description,
         "settings": Jsonb(dict(spec.settings)), "plan": spec.plan,
         "logo": f"https://{spec.domain}/logo.png", "id": org.id},
    )
    ctx = Ctx(conn=conn, org=spec, org_id=org.id, now=now, rng=random.Random(spec.seed))
    _load_workflow(ctx)
    _seed_contacts(ctx)
    created = _seed_people(ctx, org, password)
    _seed_projects(ctx)
    _seed_reviews(ctx)
    _seed_suppliers(ctx)
    _seed_inventory(ctx)
    _seed_purchase_orders(ctx)
    _seed_production(ctx)
    _seed_stock(ctx)
    _seed_documents(ctx)
    _seed_rfq_documents(ctx)
    _seed_approvals(ctx)
    _seed_messages(ctx)
    _seed_notifications(ctx)
    _seed_drive_and_filters(ctx)
    _insert(conn, "activity_log", ctx.activity)
    return created


# --------------------------------------------------------------------------------------------
# Workflow, contacts, people
# --------------------------------------------------------------------------------------------
def _load_workflow(ctx: Ctx) -> None:
    for row in ctx.conn.execute(
        text("SELECT id, slug, responsible_roles::text[] AS roles FROM workflow_stages "
             "WHERE organization_id = :org"), {"org": ctx.org_id}
    ):
        ctx.stages[row.slug] = row.id
        ctx.stage_roles[row.slug] = list(row.roles)
    by_id = {v: k for k, v in ctx.stages.items()}
    for row in ctx.conn.execute(
        text("SELECT id, workflow_stage_id, sub_stage_order, responsible_roles::text[] AS roles, "
             "name FROM workflow_sub_stages WHERE organization_id = :org AND is_active "
             "ORDER BY sub_stage_order"), {"org": ctx.org_id}
    ):
        ctx.sub_stages.setdefault(by_id[row.workflow_stage_id], []).append(
            (row.id, row.sub_stage_order, list(row.roles), row.name))


def _contact_row(ctx: Ctx, kind: str, spec: ContactSpec, index: int) -> Row:
    rng = ctx.rng
    created = ctx.ago(400 - index * 23 - (0 if kind == "customer" else 11))
    row: Row = {
        "id": _new_id(), "organization_id": ctx.org_id, "type": kind,
        "company_name": spec.company, "contact_name": spec.contact_name, "email": spec.email,
        "phone": spec.phone, "address": spec.address or None, "city": spec.city or None,
        "state": spec.state or None, "country": spec.country or None,
        "postal_code": spec.postal_code or None,
        "website": spec.website, "tax_id": f"{ctx.org.code}-TX-{rng.randint(100000, 999999)}",
        "payment_terms": spec.payment_terms,
        "credit_limit": _money(spec.credit_limit) if spec.credit_limit else None,
        "is_active": True, "notes": spec.notes,
        "metadata": {"source": "demo", "preferred_contact": "email",
                     "rating": round(rng.uniform(3.4, 5.0), 1)},
        "capability_tags": list(spec.tags), "created_at": created, "updated_at": created,
    }
    if kind == "supplier":
        row["ai_category"] = {"primary": spec.tags[0], "confidence": 0.9}
        row["ai_capabilities"] = list(spec.tags)
        row["ai_risk_score"] = _money(rng.uniform(5, 35))
        row["ai_last_analyzed"] = ctx.ago(rng.randint(3, 30))
    return row


def _seed_contacts(ctx: Ctx) -> None:
    rows = []
    for i, spec in enumerate(ctx.org.customers):
        rows.append(_contact_row(ctx, "customer", spec, i))
        ctx.customers.append(rows[-1]["id"])
    for i, spec in enumerate(ctx.org.suppliers):
        rows.append(_contact_row(ctx, "supplier", spec, i))
        ctx.suppliers.append(rows[-1]["id"])
    rows.append(_contact_row(ctx, "partner", ctx.org.partner, 6))
    internal = ContactSpec(ctx.org.name, "Front desk", f"info@{ctx.org.domain}",
                           ctx.org.people[0].phone, "", "", "", "", "", f"https://{ctx.org.domain}",
                           "", 0, ("internal",), "Our own company, for internal projects.")
    rows.append(_contact_row(ctx, "internal", internal, 7))
    _insert(ctx.conn, "contacts", rows)


def _seed_people(ctx: Ctx, org: people.Organization, password: str) -> int:
    created = 0
    members: list[tuple[uuid.UUID, PersonSpec]] = []
    for spec in ctx.org.people:
        contact = None
        if spec.role is Role.CUSTOMER:
            contact = ctx.customers[0]
        elif spec.role is Role.SUPPLIER:
            contact = ctx.suppliers[0]
        email = ctx.org.customers[0].email if spec.role is Role.CUSTOMER else (
            ctx.org.suppliers[0].email if spec.role is Role.SUPPLIER
            else _person_email(ctx.org, spec))
        person_id, is_new = _ensure_person(ctx, org, spec, password, email, contact)
        ctx.people[spec.role] = person_id
        created += int(is_new)
        if is_new:
            ctx.conn.execute(
                text("UPDATE persons SET phone = :phone, preferences = :prefs, "
                     "last_login_at = :last WHERE id = :id"),
                {"phone": spec.phone, "id": person_id, "last": ctx.ago(ctx.rng.uniform(0.1, 6)),
                 "prefs": Jsonb({"theme": "system", "language": ctx.org.settings["language"],
                                 "notifications": {"email": spec.role.is_portal,
                                                   "desktop": True}})},
            )
        members.append((person_id, spec))
    manager = ctx.who(Role.MANAGEMENT)
    for n, (person_id, spec) in enumerate(members, start=1):
        reports_to = manager if spec.role not in (Role.MANAGEMENT, Role.CUSTOMER,
                                                  Role.SUPPLIER) else None
        ctx.conn.execute(
            text("UPDATE memberships SET department = :dept, title = :title, "
                 "employee_id = :emp, direct_manager_id = :mgr "
                 "WHERE organization_id = :org AND person_id = :person"),
            {"dept": spec.department, "title": spec.title,
             "emp": None if spec.role.is_portal else f"{ctx.org.code}-{1000 + n * 7}",
             "mgr": reports_to, "org": ctx.org_id, "person": person_id},
        )
    return created


def _ensure_person(ctx: Ctx, org: people.Organization, spec: PersonSpec, password: str,
                   email: str, contact: uuid.UUID | None) -> tuple[uuid.UUID, bool]:
    """The person `<slug>.<role>`: created, or found and never changed."""
    conn = ctx.conn
    username = _username(ctx.org.slug, spec.role)
    existing = conn.execute(
        text("SELECT id FROM persons WHERE role_name = :u"), {"u": username}
    ).scalar_one_or_none()
    if existing is not None:
        member = conn.execute(
            text("SELECT 1 FROM memberships WHERE organization_id = :o AND person_id = :p"),
            {"o": ctx.org_id, "p": existing},
        ).first()
        if member is None:
            people.add_membership(conn, org, username, spec.role, contact_id=contact)
        return existing, False
    login = conn.execute(
        text("SELECT pg_has_role(oid, 'fp_member', 'MEMBER') FROM pg_roles WHERE rolname = :u"),
        {"u": username},
    ).scalar_one_or_none()
    if login is None:
        person_id = people.add_person(conn, org, username, spec.role, password,
                                      display_name=_display_name(spec), email=email,
                                      contact_id=contact)
        return person_id, True
    if not login:
        raise UserFacingError(
            f'A database login "{username}" exists but is not a Factory Pulse person; '
            "rename or drop it before loading the demo data."
        )
    # The login exists in this cluster (seeded into another database): adopt it unchanged.
    person_id = _new_id()
    _insert(conn, "persons", [{"id": person_id, "role_name": username,
                               "display_name": _display_name(spec), "email": email}])
    _insert(conn, "memberships", [{"organization_id": ctx.org_id, "person_id": person_id,
                                   "role": spec.role.value, "contact_id": contact}])
    _insert(conn, "activity_log", [{
        "organization_id": ctx.org_id, "actor_id": None, "entity_type": "person",
        "entity_id": person_id, "action": "person_created",
        "description": f"Added {username} as {spec.role.value} (existing login)",
    }])
    return person_id, True


# --------------------------------------------------------------------------------------------
# Projects and their workflow
# --------------------------------------------------------------------------------------------
def _local_day(ctx: Ctx, moment: datetime) -> date:
    try:
        zone = ZoneInfo(str(ctx.org.settings.get("timezone", "UTC")))
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).date()


def _route(spec: ProjectSpec) -> list[tuple[str, str, str | None]]:
    """The transitions that bring a new project from its intake stage to `spec.stage`."""
    start = STAGE_SLUGS.index(INTAKE_START[spec.intake])
    target = STAGE_SLUGS.index(spec.stage)
    if spec.route == "skip":
        return [(spec.stage, "skip",
                 "Repeat order: drawings and prices reused from the previous job, no new "
                 "supplier quotes needed")]
    steps: list[tuple[str, str, str | None]] = [
        (s, "advance", None) for s in STAGE_SLUGS[start + 1:target + 1]]
    if spec.route == "back":
        steps.append((STAGE_SLUGS[target - 2], "back",
                      "Customer changed the design (new drawing revision); technical review "
                      "must be repeated"))
        steps += [(s, "advance", None) for s in STAGE_SLUGS[target - 1:target + 1]]
    return steps


def _seed_projects(ctx: Ctx) -> None:
    conn, rng = ctx.conn, ctx.rng
    per_day: dict[date, int] = {}
    history: list[Row] = []
    assignments: list[Row] = []
    for spec in ctx.org.projects:
        created = ctx.ago(spec.age_days, rng.uniform(0, 8))
        day = _local_day(ctx, created)
        per_day[day] = per_day.get(day, 0) + 1
        number = f"P-{day:%y%m%d}{per_day[day]:02d}"
        project = Project(_new_id(), spec, number, created, ctx.customers[spec.customer])
        ctx.projects.append(project)
        lead = 30 + spec.quantity % 40 + rng.randint(5, 40)
        delivery = (created + timedelta(days=lead)).date()
        first = INTAKE_START[spec.intake]
        _insert(conn, "projects", [{
            "id": project.id, "organization_id": ctx.org_id, "project_number": number,
            "title": spec.title, "description": spec.description,
            "customer_id": project.customer_id, "current_stage_id": ctx.stages[first],
            "status": spec.status,
            "priority_score": min(100, PRIORITY_SCORE[spec.priority] + rng.randint(-5, 8)),
            "priority_level": spec.priority, "estimated_value": _money(spec.value),
            "estimated_delivery_date": delivery,
            "actual_delivery_date": ctx.ago(4).date() if spec.status == "completed" else None,
            "source": {"phone": "manual", "walk_in": "manual"}.get(spec.intake_source,
                                                                    spec.intake_source),
            "tags": list(spec.tags),
            "metadata": {"quantity": spec.quantity, "material": spec.material,
                         "currency": ctx.org.currency,
                         "customer_reference": f"{spec.customer + 1}-{rng.randint(1000, 9999)}"},
            "project_type": spec.project_type,
            "notes": "On hold: customer re-evaluating budget." if spec.status == "on_hold"
            else ("Cancelled: outside our capabilities." if spec.status == "cancelled" else None),
            "created_by": ctx.who(Role.SALES),
            "assigned_to": ctx.who(Role.SALES),
            "intake_type": spec.intake, "intake_source": spec.intake_source,
            "created_at": created, "updated_at": created,
        }])
        project.visits.append((first, created))
        history.append({
            "organization_id": ctx.org_id, "project_id": project.id, "from_stage_id": None,
            "to_stage_id": ctx.stages[first], "transition": "created", "reason": None,
            "comment": None, "actor_id": ctx.who(Role.SALES), "occurred_at": created,
            "created_at": created,
        })
        ctx.log("project_created", "project", project.id,
                f"Created {number} from a {spec.intake.replace('_', ' ')} intake", Role.SALES,
                created, project, {"intake_type": spec.intake})
        history.extend(_walk(ctx, project))
        assignments.extend(_assignments(ctx, project))
    _insert(conn, "project_stage_history", history)
    _insert(conn, "project_assignments", assignments)
    # project_number_counters: the insert trigger keeps them ahead of the explicit numbers.
    for project in ctx.projects:
        _finish_progress(ctx, project)


def _walk(ctx: Ctx, project: Project) -> list[Row]:
    """Move the project through its route by UPDATE (the trigger adds sub-stage progress)."""
    steps = _route(project.spec)
    rows: list[Row] = []
    span = (ctx.now - project.created_at).total_seconds()
    current = INTAKE_START[project.spec.intake]
    for i, (to_stage, kind, reason) in enumerate(steps, start=1):
        at = project.created_at + timedelta(seconds=span * i / (len(steps) + 1.3))
        ctx.conn.execute(
            text("UPDATE projects SET current_stage_id = :stage, assigned_to = :who "
                 "WHERE id = :id"),
            {"stage": ctx.stages[to_stage], "id": project.id,
             "who": ctx.who(_stage_person(ctx, to_stage))},
        )
        actor = Role.MANAGEMENT if kind != "advance" else STAGE_OWNER[current]
        comment = (ctx.rng.choice(ADVANCE_COMMENTS) if kind == "advance"
                   else "Approved as a manager bypass.")
        rows.append({
            "organization_id": ctx.org_id, "project_id": project.id,
            "from_stage_id": ctx.stages[current], "to_stage_id": ctx.stages[to_stage],
            "transition": kind, "reason": reason, "comment": comment,
            "actor_id": ctx.who(actor), "occurred_at": at, "created_at": at,
        })
        if kind == "skip":
            project.skipped = list(STAGE_SLUGS[STAGE_SLUGS.index(current) + 1:
                                              STAGE_SLUGS.index(to_stage)])
        ctx.log("stage_transition" if kind == "advance" else "stage_transition_bypass",
                "project", project.id,
                f"{project.number}: {current} -> {to_stage}" + (f" ({reason})" if reason else ""),
                actor, at, project,
                {"from_stage": current, "to_stage": to_stage, "transition": kind,
                 "reason": reason, "bypass": kind != "advance"})
        project.visits.append((to_stage, at))
        current = to_stage
    entered = project.visits[-1][1]
    ctx.conn.execute(
        text("UPDATE projects SET stage_entered_at = :at WHERE id = :id"),
        {"at": entered, "id": project.id},
    )
    return rows


def _stage_person(ctx: Ctx, stage: str) -> Role:
    roles = [r for r in ctx.stage_roles[stage] if r not in ("customer", "supplier")]
    return Role(roles[0]) if roles else Role.MANAGEMENT


def _windows(ctx: Ctx, project: Project) -> dict[str, tuple[datetime, datetime]]:
    """First entry and last exit of every stage visited (the current one ends now)."""
    out: dict[str, tuple[datetime, datetime]] = {}
    for i, (stage, entered) in enumerate(project.visits):
        left = project.visits[i + 1][1] if i + 1 < len(project.visits) else ctx.now
        start = out[stage][0] if stage in out else entered
        out[stage] = (start, left)
    return out


def _finish_progress(ctx: Ctx, project: Project) -> None:
    """Complete the sub-stages of past stages and part of the current one."""
    rng = ctx.rng
    windows = _windows(ctx, project)
    rows = ctx.conn.execute(
        text("SELECT p.id, p.workflow_stage_id, s.sub_stage_order, s.responsible_roles::text[] "
             "AS roles FROM project_sub_stage_progress p JOIN workflow_sub_stages s "
             "ON s.id = p.sub_stage_id WHERE p.project_id = :pid ORDER BY s.sub_stage_order"),
        {"pid": project.id},
    ).all()
    by_id = {v: k for k, v in ctx.stages.items()}
    current = project.spec.stage
    count = {slug: len(ctx.sub_stages.get(slug, [])) for slug in STAGE_SLUGS}
    whole_done = project.spec.status == "completed"
    done_in_current = count[current] if whole_done else rng.randint(0, max(0, count[current] - 1))
    updates: list[Row] = []
    for row in rows:
        slug = by_id[row.workflow_stage_id]
        start, end = windows[slug]
        n = count[slug]
        order = row.sub_stage_order
        internal = [r for r in row.roles if r not in ("customer", "supplier")]
        who = ctx.who(Role(internal[0])) if internal else ctx.who(Role.MANAGEMENT)
        step = (end - start) / (n + 1)
        status, started, completed, notes = "pending", None, None, None
        if slug != current or order <= done_in_current:
            status, started, completed = "completed", start + step * (order - 1), \
                start + step * order
            notes = "Done." if order % 2 else None
        elif order == done_in_current + 1 and project.spec.status in ("active", "on_hold"):
            status, started = "in_progress", start + step * (order - 1)
            if project.spec.status == "on_hold":
                status, notes = "blocked", "Blocked: waiting for the customer's decision."
        elif project.spec.status == "cancelled":
            status, notes = "skipped", "Project cancelled."
        updates.append({"pid": row.id, "status": status, "started": started,
                        "completed": completed, "by": who if completed else None,
                        "assigned": who, "notes": notes})
    if updates:
        ctx.conn.execute(
            text("UPDATE project_sub_stage_progress SET status = :status, started_at = :started, "
                 "completed_at = :completed, completed_by = :by, assigned_to = :assigned, "
                 "notes = :notes WHERE id = :pid"),
            updates,
        )
    skipped = []
    for slug in project.skipped:
        for sub_id, _order, _roles, _name in ctx.sub_stages.get(slug, []):
            skipped.append({
                "organization_id": ctx.org_id, "project_id": project.id,
                "workflow_stage_id": ctx.stages[slug], "sub_stage_id": sub_id,
                "status": "skipped", "notes": "Skipped by manager bypass (repeat order).",
                "metadata": {"bypass": True}, "assigned_to": ctx.who(Role.MANAGEMENT),
            })
    _insert(ctx.conn, "project_sub_stage_progress", skipped)


def _assignments(ctx: Ctx, project: Project) -> list[Row]:
    plan = [(Role.SALES, "account_owner", "inquiry_received")]
    plan.append((Role.ENGINEERING, "lead_engineer", "technical_review"))
    plan.append((Role.QA, "quality_lead", "technical_review"))
    plan.append((Role.PROCUREMENT, "buyer", "supplier_rfq_sent"))
    plan.append((Role.PRODUCTION, "production_lead", "order_confirmed"))
    rows: list[Row] = []
    for role, label, from_stage in plan:
        if project.stage_index < STAGE_SLUGS.index(from_stage) and not project.visited(from_stage):
            continue
        at = project.created_at + timedelta(hours=2 + len(rows) * 5)
        rows.append({
            "organization_id": ctx.org_id, "project_id": project.id, "person_id": ctx.who(role),
            "role": label, "assigned_at": at, "assigned_by": ctx.who(Role.MANAGEMENT),
            "is_active": not (project.spec.status == "completed" and role is Role.QA),
            "created_at": at, "updated_at": at,
        })
    return rows


# --------------------------------------------------------------------------------------------
# Reviews
# --------------------------------------------------------------------------------------------
def _seed_reviews(ctx: Ctx) -> None:
    reviews: list[Row] = []
    risks: list[Row] = []
    for project in ctx.projects:
        for review_type, status, decision_reason in _review_plan(project):
            reviews.append(_review_row(ctx, project, review_type, status, decision_reason))
            if status not in ("pending", "in_progress"):
                for category, severity, description, mitigation in ctx.org.risks[review_type]:
                    risks.append({
                        "organization_id": ctx.org_id, "review_id": reviews[-1]["id"],
                        "category": category, "severity": severity,
                        "description": description, "mitigation": mitigation,
                        "created_at": reviews[-1]["completed_at"],
                        "updated_at": reviews[-1]["completed_at"],
                    })
    _insert(ctx.conn, "reviews", reviews)
    _insert(ctx.conn, "review_risks", risks)


def _review_plan(project: Project) -> list[tuple[str, str, str | None]]:
    spec = project.spec
    plan: list[tuple[str, str, str | None]] = []
    if project.visited("technical_review"):
        if spec.status == "cancelled":
            plan += [("engineering", "approved", "Feasible with fixture changes."),
                     ("qa", "approved", "Inspection plan possible."),
                     ("production", "rejected", "Needs equipment we do not have; see risks.")]
        elif spec.stage == "technical_review":
            plan += [("engineering", "approved", "Design is manufacturable."),
                     ("qa", "in_progress", None), ("production", "pending", None)]
        else:
            if spec.route == "back":
                plan.append(("engineering", "revision_requested",
                             "Revision B drawing changes the sealing face; re-review needed."))
            plan += [("engineering", "approved", "Manufacturable as drawn."),
                     ("qa", "approved", "Inspection plan agreed."),
                     ("production", "approved", "Capacity reserved.")]
    if spec.intake == "purchase_order":
        plan.append(("production", "approved", "Capacity confirmed for the PO dates."))
    if project.visited("quoted") and spec.intake != "purchase_order":
        plan.append(("management", "pending" if spec.stage == "quoted" else "approved",
                     None if spec.stage == "quoted" else "Margin within target."))
    if project.visited("production"):
        plan.append(("quality", "approved" if spec.stage == "completed" else "in_progress",
                     "Final inspection passed." if spec.stage == "completed" else None))
    return plan


def _review_row(ctx: Ctx, project: Project, review_type: str, status: str,
                reason: str | None) -> Row:
    reviewer = {"engineering": Role.ENGINEERING, "qa": Role.QA, "production": Role.PRODUCTION,
                "management": Role.MANAGEMENT, "quality": Role.QA}[review_type]
    created = project.created_at + timedelta(hours=6 + ctx.rng.randint(0, 30))
    done = status not in ("pending", "in_progress")
    completed = min(ctx.now - timedelta(hours=1),
                    created + timedelta(hours=ctx.rng.randint(8, 60))) if done else None
    decision = {"approved": "approve", "rejected": "reject",
                "revision_requested": "request_revision"}.get(status)
    return {
        "id": _new_id(), "organization_id": ctx.org_id, "project_id": project.id,
        "reviewer_id": ctx.who(reviewer), "reviewer_role": reviewer.value,
        "review_type": review_type, "status": status, "priority": project.spec.priority,
        "comments": f"{review_type.capitalize()} review of {project.number}: "
                    f"{project.spec.material}, qty {project.spec.quantity}.",
        "recommendations": "Confirm tolerances with the customer before release." if done
        else None,
        "decision": decision, "decision_reason": reason,
        "metadata": {"checklist": {"drawing_complete": True, "material_available": done,
                                   "special_processes": list(project.spec.tags[:2])}},
        "due_date": (created + timedelta(days=3)).date(), "completed_at": completed,
        "created_by": ctx.who(Role.SALES), "created_at": created,
        "updated_at": completed or created,
    }


# --------------------------------------------------------------------------------------------
# Supplier RFQs and quotes
# --------------------------------------------------------------------------------------------
def _seed_suppliers(ctx: Ctx) -> None:
    rng = ctx.rng
    plan = [  # project, supplier, status, quote status
        (ctx.project("supplier_rfq_sent"), 0, "sent", None),
        (ctx.project("supplier_rfq_sent"), 1, "viewed", None),
        (ctx.project("supplier_rfq_sent"), 3, "draft", None),
        (ctx.project("quoted", "project_idea"), 0, "quoted", "under_review"),
        (ctx.project("quoted", "project_idea"), 3, "declined", None),
        (ctx.project("production", "rfq"), 1, "quoted", "accepted"),
        (ctx.project("production", "rfq"), 2, "expired", None),
        (ctx.project("completed"), 0, "quoted", "accepted"),
        (ctx.project("procurement_planning"), 2, "quoted", "submitted"),
        (ctx.project("procurement_planning"), 4, "cancelled", None),
        (ctx.project("production", "purchase_order"), 1, "quoted", "rejected"),
    ]
    rfqs: list[Row] = []
    quotes: list[Row] = []
    lines: list[Row] = []
    groups: dict[uuid.UUID, uuid.UUID] = {}  # the RFQs of one project went out together
    for n, (project, supplier, status, quote_status) in enumerate(plan, start=1):
        created = project.created_at + timedelta(days=1, hours=n)
        sent = created + timedelta(hours=3) if status != "draft" else None
        rfq = {
            "id": _new_id(), "organization_id": ctx.org_id, "project_id": project.id,
            "rfq_group": groups.setdefault(project.id, _new_id()),
            "supplier_id": ctx.suppliers[supplier],
            "rfq_number": f"RFQ-{ctx.org.code}-{project.created_at:%y}{n:04d}",
            "status": status, "sent_at": sent,
            "viewed_at": sent + timedelta(hours=5) if sent and status != "sent" else None,
            "due_date": (created + timedelta(days=7)).date(),
            "expected_response_date": (created + timedelta(days=5)).date(),
            "priority": project.spec.priority,
            "requirements": f"Quote {project.spec.quantity} pcs in {project.spec.material} "
                            f"for {project.spec.title}; "
                            f"{', '.join(ctx.org.suppliers[supplier].tags[:2])}.",
            "special_instructions": "Include material certificates (EN 10204 3.1) and lead time.",
            "created_by": ctx.who(Role.PROCUREMENT), "created_at": created, "updated_at": created,
        }
        rfqs.append(rfq)
        if quote_status is None:
            continue
        quote_id = _new_id()
        quote_lines = _quote_lines(ctx, quote_id, project)
        total = sum((line_total for _row, line_total in quote_lines), Decimal("0"))
        lines.extend(row for row, _total in quote_lines)
        submitted = (sent or created) + timedelta(days=2)
        quotes.append({
            "id": quote_id, "organization_id": ctx.org_id, "project_id": project.id,
            "supplier_rfq_id": rfq["id"], "supplier_id": rfq["supplier_id"],
            "quote_number": f"Q{rng.randint(10000, 99999)}-{n}", "total_amount": total,
            "currency": ctx.org.currency, "lead_time_days": rng.randint(5, 25),
            "valid_until": (submitted + timedelta(days=30)).date(), "status": quote_status,
            "terms_and_conditions": "Ex works; payment per framework agreement.",
            "notes": "Price includes deburring and packaging.",
            "metadata": {"incoterm": "EXW", "rfq_number": rfq["rfq_number"]},
            "submitted_at": submitted,
            "created_by": ctx.who(Role.SUPPLIER) if supplier == 0 else ctx.who(Role.PROCUREMENT),
            "created_at": submitted, "updated_at": submitted,
        })
    _insert(ctx.conn, "supplier_rfqs", rfqs)
    _insert(ctx.conn, "supplier_quotes", quotes)
    _insert(ctx.conn, "supplier_quote_lines", lines)
    ctx.rfqs, ctx.quotes = rfqs, quotes


def _seed_rfq_documents(ctx: Ctx) -> None:
    """The project's drawings and specifications went out with its RFQs; the number
    counters of RFQs and purchase orders start today (the demo's own numbers predate them)."""
    links: list[Row] = []
    for rfq in ctx.rfqs:
        for doc in ctx.documents.values():
            if doc["project_id"] == rfq["project_id"] and doc["category"] in (
                    "drawing", "specification", "rfq"):
                links.append({"organization_id": ctx.org_id, "supplier_rfq_id": rfq["id"],
                              "document_id": doc["id"], "created_at": rfq["created_at"]})
    if not links:
        raise RuntimeError("demo RFQs must go out with at least one project document")
    _insert(ctx.conn, "supplier_rfq_documents", links)
    _insert(ctx.conn, "procurement_number_counters", [
        {"organization_id": ctx.org_id, "kind": kind, "day": ctx.now.date(), "last_seq": 0}
        for kind in ("rfq", "po")])


def _quote_lines(ctx: Ctx, quote_id: uuid.UUID, project: Project
                 ) -> list[tuple[Row, Decimal]]:
    rng = ctx.rng
    qty = Decimal(max(1, project.spec.quantity))
    unit_price = Decimal(project.spec.value) / qty * Decimal("0.55")
    parts = [
        (f"{project.spec.title[:40]} - machining/fabrication", qty, "pcs", unit_price),
        ("Set-up and programming", Decimal(1), "lot", Decimal(rng.randint(250, 900))),
        ("Material certificates and packaging", Decimal(1), "lot", Decimal(rng.randint(40, 150))),
    ]
    out = []
    for no, (desc, quantity, unit, price) in enumerate(parts, start=1):
        price = price.quantize(Decimal("0.0001"))
        out.append(({
            "organization_id": ctx.org_id, "supplier_quote_id": quote_id, "line_no": no,
            "description": desc, "quantity": quantity, "unit": unit, "unit_price": price,
        }, _money(quantity * price)))
    return out


# --------------------------------------------------------------------------------------------
# Inventory, purchase orders, production, stock ledger
# --------------------------------------------------------------------------------------------
def _seed_inventory(ctx: Ctx) -> None:
    created = ctx.ago(120)
    locations: list[Row] = []
    for code, name, description in ctx.org.locations:
        locations.append({"id": _new_id(), "organization_id": ctx.org_id, "code": code,
                          "name": name, "description": description, "is_active": True,
                          "created_at": created, "updated_at": created})
    ctx.locations = [r["id"] for r in locations]
    items: list[Row] = []
    for n, item in enumerate(ctx.org.items):
        items.append({
            "id": _new_id(), "organization_id": ctx.org_id, "item_code": item.code,
            "item_name": item.name, "description": f"{item.name}; stocked in "
            f"{ctx.org.locations[item.location][1].lower()}.",
            "category": item.category, "unit": item.unit,
            "default_location_id": ctx.locations[item.location],
            "min_stock_level": Decimal(item.min_level), "max_stock_level": Decimal(item.max_level),
            "unit_cost": Decimal(item.unit_cost),
            "preferred_supplier_id": None if item.supplier is None
            else ctx.suppliers[item.supplier],
            "status": "discontinued" if n == 5 and ctx.org.slug == "globex" else "active",
            "barcode": f"{400000000000 + ctx.org.seed % 1000 * 1000 + n:013d}",
            "created_at": created, "updated_at": created,
        })
    ctx.items = [r["id"] for r in items]
    _insert(ctx.conn, "inventory_locations", locations)
    _insert(ctx.conn, "inventory_items", items)


PO_PLAN: tuple[
    tuple[str, int, tuple[str, str | None] | None, tuple[tuple[int, str], ...], int], ...
] = (
    # status, supplier, project (stage, intake) or None, ((item, factor), ...), days ago
    ("draft", 4, None, ((3, "1"), (4, "1")), 1),
    ("pending_approval", 2, ("procurement_planning", None), ((0, "3"), (1, "2"), (2, "2")), 2),
    ("approved", 2, ("order_confirmed", None), ((0, "3"), (1, "2"), (3, "1")), 4),
    ("sent", 4, None, ((4, "1"), (3, "0.5")), 6),
    ("acknowledged", 1, ("production", "purchase_order"), ((6, "1"),), 9),
    ("partially_received", 2, ("production", "rfq"), ((0, "1"), (2, "1")), 14),
    ("received", 2, None, ((1, "1"), (0, "1")), 30),
    ("closed", 4, ("completed", None), ((3, "1"), (5, "1")), 70),
    ("cancelled", 0, ("production", "purchase_order"), ((5, "0.5"),), 20),
)


def _seed_purchase_orders(ctx: Ctx) -> None:
    rng = ctx.rng
    orders: list[Row] = []
    lines: list[Row] = []
    for n, (status, supplier, project_key, plan, days) in enumerate(PO_PLAN, start=1):
        project = ctx.project(*project_key) if project_key else None
        ordered = ctx.ago(days, rng.uniform(1, 6))
        po_id = _new_id()
        total = Decimal("0")
        for no, (item_index, factor) in enumerate(plan, start=1):
            item = ctx.org.items[item_index]
            quantity = (Decimal(item.typical_order) * Decimal(factor)).quantize(Decimal("1"))
            price = (Decimal(item.unit_cost) * Decimal(str(rng.uniform(0.93, 1.04)))
                     ).quantize(Decimal("0.0001"))
            received = Decimal(0)
            if status in ("received", "closed"):
                received = quantity
            elif status == "partially_received" and no == 1:
                received = (quantity / 2).quantize(Decimal("1"))
            total += _money(quantity * price)
            lines.append({
                "id": _new_id(), "organization_id": ctx.org_id, "purchase_order_id": po_id,
                "line_no": no, "inventory_item_id": ctx.items[item_index],
                "item_name": item.name, "description": f"{item.code}, per our spec",
                "quantity": quantity, "unit": item.unit, "unit_price": price,
                "quantity_received": received, "created_at": ordered, "updated_at": ordered,
                "_po_status": status, "_ordered": ordered,
            })
        quote = next((q["id"] for q in ctx.quotes if project and q["project_id"] == project.id
                      and q["status"] == "accepted"), None)
        sent = ordered + timedelta(hours=4) if status not in (
            "draft", "pending_approval", "approved", "cancelled") else None
        orders.append({
            "id": po_id, "organization_id": ctx.org_id,
            "po_number": f"PO-{ctx.org.code}-{ordered:%y}-{300 + n * 7:04d}",
            "supplier_id": ctx.suppliers[supplier], "project_id": project.id if project else None,
            "supplier_quote_id": quote, "status": status,
            "priority": "high" if total > ctx.org.po_threshold else "medium",
            "currency": ctx.org.currency, "total_amount": total, "order_date": ordered.date(),
            "due_date": (ordered + timedelta(days=14 + n)).date(), "sent_at": sent,
            "acknowledged_at": sent + timedelta(days=1) if sent and status != "sent" else None,
            "closed_at": ordered + timedelta(days=20) if status == "closed" else None,
            "notes": "Deliver to goods-in, dock 2; quote the PO number on the delivery note.",
            "created_by": ctx.who(Role.PROCUREMENT), "created_at": ordered, "updated_at": ordered,
        })
    for key in ("pending_approval", "approved"):
        po = next(o for o in orders if o["status"] == key)
        if po["total_amount"] <= ctx.org.po_threshold:
            raise RuntimeError(f"demo PO {po['po_number']} must exceed the approval threshold")
    _insert(ctx.conn, "purchase_orders", orders)
    _insert(ctx.conn, "purchase_order_lines",
            [{k: v for k, v in line.items() if not k.startswith("_")} for line in lines])
    ctx.pos, ctx.po_lines = orders, lines


PRODUCTION_PLAN: tuple[tuple[str, tuple[str, str | None] | None, int], ...] = (
    # status, project (stage, intake) or None, quantity source, days since planned start
    ("planned", ("procurement_planning", None), -6),
    ("released", ("order_confirmed", None), -2),
    ("in_progress", ("production", "rfq"), 9),
    ("on_hold", ("production", "purchase_order"), 6),
    ("completed", ("completed", None), 40),
    ("cancelled", None, 25),
)


def _seed_production(ctx: Ctx) -> None:
    rng = ctx.rng
    centers: list[Row] = []
    for code, name, description in ctx.org.work_centers:
        centers.append({"id": _new_id(), "organization_id": ctx.org_id, "code": code,
                        "name": name, "description": description, "is_active": True,
                        "created_at": ctx.ago(300), "updated_at": ctx.ago(300)})
    ctx.work_centers = [r["id"] for r in centers]
    _insert(ctx.conn, "work_centers", centers)
    finished = len(ctx.org.items) - 1
    orders: list[Row] = []
    operations: list[Row] = []
    events: list[Row] = []
    for n, (status, project_key, start_days) in enumerate(PRODUCTION_PLAN, start=1):
        project = ctx.project(*project_key) if project_key else None
        quantity = Decimal(project.spec.quantity if project else 30)
        if status == "completed":
            quantity = Decimal(ctx.org.items[finished].typical_order)
        start = ctx.ago(start_days)
        planned_end = start + timedelta(days=7 + n)
        completed_qty = {"in_progress": (quantity * Decimal("0.4")).quantize(Decimal("1")),
                         "on_hold": (quantity * Decimal("0.25")).quantize(Decimal("1")),
                         "completed": quantity}.get(status, Decimal(0))
        scrapped = Decimal(2) if status in ("in_progress", "completed") else Decimal(0)
        running = status in ("in_progress", "on_hold", "completed")
        order: Row = {
            "id": _new_id(), "organization_id": ctx.org_id,
            "production_number": f"{'MO' if ctx.org.slug == 'acme' else 'FA'}-{ctx.org.code}-"
                                 f"{1000 + n * 13}",
            "project_id": project.id if project else None,
            "inventory_item_id": ctx.items[finished] if status in ("completed", "cancelled")
            else None,
            "description": (f"Make {quantity} x {project.spec.title}" if project
                            else f"Stock replenishment: {ctx.org.items[finished].name}"),
            "status": status, "priority": project.spec.priority if project else "low",
            "quantity": quantity, "completed_quantity": completed_qty,
            "scrapped_quantity": scrapped, "planned_start": start.date(),
            "planned_end": planned_end.date(),
            "actual_start": start + timedelta(hours=2) if running else None,
            "actual_end": start + timedelta(days=6) if status == "completed" else None,
            "assigned_to": ctx.who(Role.PRODUCTION),
            "notes": {"on_hold": ctx.org.phrases["hold"],
                      "cancelled": "Cancelled: demand covered by stock."}.get(status),
            "created_by": ctx.who(Role.PRODUCTION),
            "created_at": start - timedelta(days=3), "updated_at": start - timedelta(days=3),
        }
        orders.append(order)
        ops = _operations(ctx, order, status)
        operations.extend(ops)
        ctx.operations[order["id"]] = ops
        if running:
            events.extend(_events(ctx, order, ops, status, rng))
    _insert(ctx.conn, "production_orders", orders)
    _insert(ctx.conn, "production_operations", operations)
    _insert(ctx.conn, "production_events", events)
    ctx.orders = orders
    materials: list[Row] = []
    for order in orders:
        for item_index, per_unit in ctx.org.bom:
            required = (order["quantity"] * Decimal(per_unit)).quantize(Decimal("0.001"))
            issued = {"in_progress": required, "on_hold": (required / 2).quantize(Decimal("1")),
                      "completed": required}.get(order["status"], Decimal(0))
            reserved = Decimal(0)
            if order["status"] in ("in_progress", "on_hold"):
                reserved = required - issued
            elif order["status"] == "released":  # reserve what stores can spare today
                reserved = min(required, Decimal(ctx.org.items[item_index].typical_order // 4))
            materials.append({
                "organization_id": ctx.org_id, "production_order_id": order["id"],
                "inventory_item_id": ctx.items[item_index], "quantity_required": required,
                "quantity_reserved": reserved, "quantity_issued": issued,
                "created_at": order["created_at"], "updated_at": order["created_at"],
                "_item": item_index,
            })
    ctx.materials = materials
    _insert(ctx.conn, "production_order_materials",
            [{k: v for k, v in m.items() if not k.startswith("_")} for m in materials])


def _operations(ctx: Ctx, order: Row, status: str) -> list[Row]:
    ops = []
    for seq, (name, center, minutes) in enumerate(ctx.org.routing, start=1):
        op_status = {
            "completed": "completed",
            "cancelled": "skipped" if seq > 1 else "pending",
        }.get(status, "pending")
        if status == "in_progress":
            op_status = "completed" if seq <= 2 else ("in_progress" if seq == 3 else "pending")
        elif status == "on_hold":
            op_status = "completed" if seq == 1 else ("paused" if seq == 2 else "pending")
        ops.append({
            "id": _new_id(), "organization_id": ctx.org_id, "production_order_id": order["id"],
            "sequence": seq, "name": name, "work_center_id": ctx.work_centers[center],
            "status": op_status, "planned_minutes": minutes,
            "created_at": order["created_at"], "updated_at": order["created_at"],
        })
    return ops


def _events(ctx: Ctx, order: Row, ops: list[Row], status: str, rng: random.Random
            ) -> list[Row]:
    events: list[Row] = []
    at: datetime = order["actual_start"]
    remaining_good: Decimal = order["completed_quantity"]
    touched = [op for op in ops if op["status"] in ("completed", "in_progress", "paused")]
    for op in touched:
        operator = Role.QA if "nspect" in op["name"] else Role.PRODUCTION

        def event(kind: str, when: datetime, quantity: Decimal | None = None,
                  minutes: float | None = None, note: str | None = None,
                  op: Row = op, operator: Role = operator) -> None:
            events.append({
                "organization_id": ctx.org_id, "production_order_id": order["id"],
                "operation_id": op["id"], "event_type": kind, "quantity": quantity,
                "minutes": Decimal(str(round(minutes, 2))) if minutes is not None else None,
                "operator_id": ctx.who(operator), "occurred_at": when,
                "client_event_id": _new_id(), "note": note, "created_at": when,
            })

        event("start", at, note=f"Started {op['name']}")
        if op["status"] == "paused":
            event("good_quantity", at + timedelta(hours=2), quantity=remaining_good,
                  minutes=rng.uniform(60, 120), note="Counted good parts before the hold")
            event("pause", at + timedelta(hours=3), minutes=180,
                  note="Paused: order put on hold by the customer.")
            break
        if op["status"] == "in_progress":
            event("pause", at + timedelta(hours=4), minutes=240, note="End of shift")
            event("resume", at + timedelta(hours=16), note="Resumed on early shift")
            event("good_quantity", at + timedelta(hours=18), quantity=remaining_good,
                  minutes=rng.uniform(90, 150), note="Counted good parts at the machine")
            break
        event("note", at + timedelta(hours=1), note="First part checked and approved.")
        is_last = op is touched[-1]
        if op["sequence"] == 2 and order["scrapped_quantity"] > 0:
            event("scrap", at + timedelta(hours=2), quantity=order["scrapped_quantity"],
                  note=f"Scrapped: {ctx.org.phrases['scrap']}.")
        event("complete", at + timedelta(hours=3 + op["planned_minutes"] / 60),
              quantity=order["completed_quantity"] if is_last else None,
              minutes=float(op["planned_minutes"]) * rng.uniform(0.9, 1.2))
        at += timedelta(hours=5 + op["planned_minutes"] / 60)
    return events


def _seed_stock(ctx: Ctx) -> None:
    """The stock ledger: receipts, issues, an adjustment, a return and a transfer pair."""
    moves: list[Row] = []
    opening = ctx.ago(100)
    raw_loc = ctx.locations[ctx.org.items[0].location]

    def move(item: int, location: uuid.UUID, kind: str, quantity: Decimal, at: datetime,
             reference: str, note: str | None = None, **extra: Any) -> None:
        spec = ctx.org.items[item]
        who = Role.PROCUREMENT if kind in ("receipt", "adjustment") else Role.PRODUCTION
        moves.append({
            "organization_id": ctx.org_id, "inventory_item_id": ctx.items[item],
            "location_id": location, "movement_type": kind, "quantity": quantity,
            "unit_cost": Decimal(spec.unit_cost), "reference": reference, "note": note,
            "moved_by": ctx.who(who), "moved_at": at, "client_event_id": _new_id(),
            "created_at": at, **extra,
        })

    for index, spec in enumerate(ctx.org.items[:-1]):
        move(index, ctx.locations[spec.location], "adjustment", Decimal(spec.typical_order),
             opening, "STOCKTAKE-OPEN", "Opening balance from the year-end stock take")
    index_by_id = {item_id: i for i, item_id in enumerate(ctx.items)}
    for line in ctx.po_lines:
        if line["quantity_received"] <= 0:
            continue
        item = index_by_id[line["inventory_item_id"]]
        po = next(p for p in ctx.pos if p["id"] == line["purchase_order_id"])
        at = min(ctx.now - timedelta(hours=5), line["_ordered"] + timedelta(days=6))
        move(item, ctx.locations[ctx.org.items[item].location], "receipt",
             line["quantity_received"], at, po["po_number"], "Goods received, count checked",
             purchase_order_line_id=line["id"])
    for material in ctx.materials:
        if material["quantity_issued"] <= 0:
            continue
        order = next(o for o in ctx.orders if o["id"] == material["production_order_id"])
        item = material["_item"]
        move(item, ctx.locations[ctx.org.items[item].location], "issue",
             -material["quantity_issued"], order["actual_start"] - timedelta(hours=1),
             order["production_number"], "Issued to the shop floor",
             production_order_id=order["id"])
    in_progress = next(o for o in ctx.orders if o["status"] == "in_progress")
    bom_item = ctx.org.bom[1][0]
    move(bom_item, ctx.locations[ctx.org.items[bom_item].location], "return", Decimal(5),
         in_progress["actual_start"] + timedelta(days=1), in_progress["production_number"],
         "Unused parts returned to stores", production_order_id=in_progress["id"])
    move(bom_item, ctx.locations[ctx.org.items[bom_item].location], "adjustment", Decimal(-3),
         ctx.ago(8), "CYCLE-COUNT", "Cycle count difference: 3 missing")
    group = _new_id()
    transfer_at = ctx.ago(3)
    qty = Decimal(ctx.org.items[0].typical_order // 10)
    move(0, raw_loc, "transfer_out", -qty, transfer_at, "TR-" + ctx.org.code + "-0007",
         "Staged at the machine", transfer_group_id=group)
    move(0, ctx.locations[2], "transfer_in", qty, transfer_at, "TR-" + ctx.org.code + "-0007",
         "Staged at the machine", transfer_group_id=group)
    done = next(o for o in ctx.orders if o["status"] == "completed")
    finished = len(ctx.org.items) - 1
    fg_loc = ctx.locations[ctx.org.items[finished].location]
    move(finished, fg_loc, "receipt", done["completed_quantity"], done["actual_end"],
         done["production_number"], "Finished goods from production",
         production_order_id=done["id"])
    move(finished, fg_loc, "issue", -(done["completed_quantity"] - Decimal(1)),
         done["actual_end"] + timedelta(days=2), "DN-" + ctx.org.code + "-5521",
         "Shipped to the customer")
    _check_never_negative(moves)
    _insert(ctx.conn, "stock_movements", moves)
    ctx.movements = moves


def _check_never_negative(moves: Sequence[Row]) -> None:
    balance: dict[tuple[uuid.UUID, uuid.UUID], Decimal] = {}
    for move in sorted(moves, key=lambda m: m["moved_at"]):
        key = (move["inventory_item_id"], move["location_id"])
        balance[key] = balance.get(key, Decimal(0)) + move["quantity"]
        if balance[key] < 0:
            raise RuntimeError(f"demo stock would go negative: {move['reference']}")


# --------------------------------------------------------------------------------------------
# Files and documents
# --------------------------------------------------------------------------------------------
def _store(ctx: Ctx, content: bytes, mime: str, bucket: str, who: Role, at: datetime
           ) -> tuple[uuid.UUID, str]:
    """Store bytes as a complete storage object with its chunks; content addressed per org."""
    digest = hashlib.sha256(content).hexdigest()
    if digest in ctx.objects:
        return ctx.objects[digest], digest
    object_id = _new_id()
    chunks = [content[i:i + CHUNK_SIZE] for i in range(0, len(content), CHUNK_SIZE)] or [b""]
    _insert(ctx.conn, "storage_objects", [{
        "id": object_id, "organization_id": ctx.org_id, "bucket_id": ctx.buckets[bucket],
        "sha256": digest, "size": len(content), "chunk_size": CHUNK_SIZE,
        "chunk_count": len(chunks), "mime_type": mime, "status": "complete",
        "expected_size": len(content), "created_by": ctx.who(who), "completed_at": at,
        "verified_at": at, "created_at": at, "updated_at": at,
    }])
    _insert(ctx.conn, "blob_chunks", [
        {"organization_id": ctx.org_id, "object_id": object_id, "seq": seq, "data": chunk}
        for seq, chunk in enumerate(chunks)
    ])
    ctx.objects[digest] = object_id
    return object_id, digest


@dataclass(frozen=True)
class DocPlan:
    key: str
    title: str
    category: str
    access: str
    file_name: str
    mime: str
    content: bytes
    uploader: Role
    project: Project | None
    bucket: str = "documents"
    links: Mapping[str, uuid.UUID] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    description: str = ""


def _process_spec(ctx: Ctx, project: Project) -> bytes:
    """A plain-text process specification of a few kilobytes."""
    org = ctx.org
    lines = [
        f"{org.name.upper()} - PROCESS SPECIFICATION",
        f"Document: PS-{project.number}    Revision: C    Status: released",
        f"Part / project: {project.spec.title}",
        f"Customer: {org.customers[project.spec.customer].company}",
        f"Material: {project.spec.material}    Lot size: {project.spec.quantity} pcs",
        "",
        "1 SCOPE",
        "This specification defines the manufacturing route, the inspection plan and the",
        "records to keep for every lot of the part named above.",
        "",
        "2 ROUTING",
    ]
    for n, step in enumerate(org.process_steps, start=1):
        lines.append(f"  2.{n}  {step}")
    lines += ["", "3 OPERATIONS AND WORK CENTERS"]
    for n, (name, center, minutes) in enumerate(org.routing, start=1):
        code, center_name, _ = org.work_centers[center]
        lines.append(f"  Op {n * 10:3d}  {name:<32} {code:<9} {center_name:<30} {minutes:4d} min")
    lines += [
        "", "4 INSPECTION PLAN",
        "  - First part: full dimensional report, signed by QA before the lot continues.",
        "  - In process: every 10th part, critical dimensions marked <CC> on the drawing.",
        "  - Final: visual 100 %, dimensional sampling per ISO 2859-1, AQL 1.0, level II.",
        "", "5 RECORDS",
        "  Material certificates (EN 10204 3.1), inspection reports and the traveller are",
        "  kept with the project documents for 10 years.",
        "", "6 REVISION HISTORY",
        "  A  first issue",
        "  B  inspection frequency changed from 5 to 10 parts",
        "  C  routing updated for the new work center",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def _document_plans(ctx: Ctx) -> list[DocPlan]:
    org, rng = ctx.org, ctx.rng
    intake = ctx.project("inquiry_received", "rfq")
    back = ctx.project("quoted", "project_idea")
    planning = ctx.project("procurement_planning")
    producing = ctx.project("production", "rfq")
    done = ctx.project("completed")
    drawing_bucket = org.extra_bucket[0] if org.slug == "acme" else "documents"
    quality_bucket = org.extra_bucket[0] if org.slug == "globex" else "documents"
    customer = org.customers[intake.spec.customer]
    rfq = next(r for r in ctx.rfqs if r["status"] == "quoted")
    rfq_project = next(p for p in ctx.projects if p.id == rfq["project_id"])
    po = next(p for p in ctx.pos if p["status"] == "pending_approval")
    in_progress = next(o for o in ctx.orders if o["status"] == "in_progress")
    bom_rows = [
        [n + 1, item.code, item.name, ctx.org.bom[n % len(ctx.org.bom)][1], item.unit,
         item.unit_cost]
        for n, item in enumerate(org.items[:5])
    ]
    inspection_rows = [
        [f"D{n:02d}", f"{nominal:.3f}", f"{nominal + rng.uniform(-0.02, 0.02):.3f}", "0.050",
         "OK"] for n, nominal in enumerate((12.0, 25.4, 40.0, 63.5, 80.0, 101.6), start=1)
    ]
    return [
        DocPlan("rfq", f"Customer RFQ package - {intake.spec.title}", "rfq", "public",
                f"RFQ_{intake.number}.pdf", "application/pdf",
                make_pdf(f"Request for quotation - {customer.company}", [
                    f"Project: {intake.spec.title}", f"Quantity: {intake.spec.quantity} pcs",
                    f"Material: {intake.spec.material}", f"Buyer: {customer.contact_name}",
                    "Please quote unit price, tooling and lead time.",
                    f"Answer by: {(intake.created_at + timedelta(days=10)):%Y-%m-%d}",
                ]), Role.SALES, intake, tags=("customer", "rfq"),
                description="RFQ as received from the customer portal."),
        DocPlan("drawing_a", f"Drawing {org.code}-{back.number[-4:]} - {back.spec.title}",
                "drawing", "internal", f"{org.code}-{back.number[-4:]}_revA.pdf",
                "application/pdf",
                make_pdf(f"Drawing {back.spec.title} - rev A", [
                    "General tolerance ISO 2768-mK", f"Material: {back.spec.material}",
                    "Break all edges 0.2 x 45 deg", "Revision A: first issue",
                ]), Role.ENGINEERING, back, bucket=drawing_bucket, tags=("drawing", "rev-a")),
        DocPlan("drawing_b", "", "drawing", "internal", f"{org.code}-{back.number[-4:]}_revB.pdf",
                "application/pdf",
                make_pdf(f"Drawing {back.spec.title} - rev B", [
                    "General tolerance ISO 2768-mK", f"Material: {back.spec.material}",
                    "Break all edges 0.2 x 45 deg",
                    "Revision B: sealing face moved 2 mm, new hole pattern",
                ]), Role.ENGINEERING, back, bucket=drawing_bucket),
        DocPlan("bom", f"Bill of materials - {planning.spec.title}", "bom", "internal",
                f"BOM_{planning.number}.csv", "text/csv",
                _csv_bytes(["line", "item_code", "description", "qty_per", "unit", "unit_cost"],
                           bom_rows), Role.ENGINEERING, planning, tags=("bom",)),
        DocPlan("spec", f"Process specification - {producing.spec.title}", "specification",
                "internal", f"SPEC_{producing.number}.txt", "text/plain",
                _process_spec(ctx, producing), Role.ENGINEERING, producing,
                tags=("process",)),
        DocPlan("quote", f"Customer quote {org.code}-Q-{done.number[-6:]}", "quote",
                "confidential", f"Quote_{done.number}.pdf", "application/pdf",
                make_pdf(f"Quotation {org.name}", [
                    f"To: {org.customers[done.spec.customer].company}",
                    f"Project: {done.spec.title}",
                    f"Total: {org.currency} {done.spec.value:,.2f}",
                    "Validity: 30 days. Incoterm: FCA our works.",
                ]), Role.SALES, done, tags=("quote", "pricing")),
        DocPlan("supplier_quote", f"Supplier quote for {rfq['rfq_number']}", "quote",
                "internal", f"SupplierQuote_{rfq['rfq_number']}.pdf", "application/pdf",
                make_pdf(f"Quotation to {org.name}", [
                    f"Your RFQ: {rfq['rfq_number']}", f"For: {rfq_project.spec.title}",
                    "Lead time: 3 weeks after order", "Prices ex works, excl. VAT",
                ]), Role.PROCUREMENT, rfq_project, links={"supplier_rfq_id": rfq["id"]},
                tags=("supplier",)),
        DocPlan("po", f"Purchase order {po['po_number']}", "contract", "internal",
                f"{po['po_number']}.pdf", "application/pdf",
                make_pdf(f"Purchase order {po['po_number']}", [
                    f"Supplier: {org.suppliers[2].company}",
                    f"Total: {org.currency} {po['total_amount']:,.2f}",
                    "Deliver to goods-in, dock 2.",
                ]), Role.PROCUREMENT, planning, links={"purchase_order_id": po["id"]},
                tags=("purchase_order",)),
        DocPlan("inspection", f"In-process inspection {in_progress['production_number']}",
                "inspection", "internal", f"INSP_{in_progress['production_number']}.csv",
                "text/csv",
                _csv_bytes(["feature", "nominal_mm", "measured_mm", "tolerance_mm", "result"],
                           inspection_rows), Role.QA, producing, bucket=quality_bucket,
                links={"production_order_id": in_progress["id"]}, tags=("inspection",)),
        DocPlan("cmm", f"CMM point cloud {producing.number}", "inspection", "internal",
                f"CMM_{producing.number}.csv", "text/csv",
                _cmm_export(rng, producing.number, 24000 if org.slug == "acme" else 25500),
                Role.QA, producing, bucket=quality_bucket, tags=("cmm", "raw-data")),
        DocPlan("certificate", f"Certificate of conformance - {done.spec.title}", "certificate",
                "public", f"CoC_{done.number}.pdf", "application/pdf",
                make_pdf("Certificate of conformance", [
                    f"Supplier: {org.name}",
                    f"Customer: {org.customers[done.spec.customer].company}",
                    f"Project: {done.number} {done.spec.title}",
                    f"Quantity shipped: {done.spec.quantity}",
                    "We certify the parts conform to the drawing and purchase order.",
                ]), Role.QA, done, bucket=quality_bucket, tags=("certificate", "shipping")),
    ]


def _seed_documents(ctx: Ctx) -> None:
    name, mimes = ctx.org.extra_bucket
    _insert(ctx.conn, "storage_buckets", [{
        "organization_id": ctx.org_id, "name": name, "max_file_size": 268435456,
        "allowed_mime_types": list(mimes), "created_at": ctx.ago(200),
        "updated_at": ctx.ago(200),
    }])
    for row in ctx.conn.execute(
        text("SELECT id, name FROM storage_buckets WHERE organization_id = :org"),
        {"org": ctx.org_id},
    ):
        ctx.buckets[row.name] = row.id
    documents: list[Row] = []
    versions: list[Row] = []
    plans = _document_plans(ctx)
    for plan in plans:
        project = plan.project
        base = project.created_at if project else ctx.ago(30)
        at = min(ctx.now - timedelta(hours=3), base + timedelta(days=1, hours=len(versions)))
        object_id, digest = _store(ctx, plan.content, plan.mime, plan.bucket, plan.uploader, at)
        if plan.key == "drawing_b":
            parent = ctx.documents["drawing_a"]
            at = min(ctx.now - timedelta(hours=2), parent["created_at"] + timedelta(days=4))
            for version in versions:
                if version["document_id"] == parent["id"]:
                    version["is_current"] = False
            versions.append(_version_row(ctx, parent["id"], 2, plan, object_id, digest, at,
                                         "Rev B: sealing face moved 2 mm, new hole pattern."))
            parent.update({"file_name": plan.file_name, "file_size": len(plan.content),
                           "file_path": f"{plan.bucket}/{digest}", "current_version_number": 2,
                           "updated_at": at})
            continue
        doc: Row = {
            "id": _new_id(), "organization_id": ctx.org_id,
            "project_id": project.id if project else None,
            "supplier_rfq_id": None, "purchase_order_id": None, "production_order_id": None,
            "title": plan.title, "description": plan.description or f"{plan.title}.",
            "file_name": plan.file_name, "file_path": f"{plan.bucket}/{digest}",
            "file_size": len(plan.content), "file_type": plan.file_name.rsplit(".", 1)[-1],
            "mime_type": plan.mime, "current_version_number": 1, "category": plan.category,
            "tags": list(plan.tags), "metadata": {"bucket": plan.bucket, "pages": 1}
            if plan.mime == "application/pdf" else {"bucket": plan.bucket},
            "access_level": plan.access, "uploaded_by": ctx.who(plan.uploader),
            "approved_by": ctx.who(Role.MANAGEMENT) if plan.category in ("quote", "certificate")
            else None,
            "approved_at": at + timedelta(hours=4) if plan.category in ("quote", "certificate")
            else None,
            "storage_provider": "database", "link_type": "file",
            "ai_processing_status": "completed" if plan.key == "rfq" else None,
            "ai_extracted_data": {"quantity": project.spec.quantity,
                                  "material": project.spec.material}
            if plan.key == "rfq" and project else None,
            "ai_confidence_score": Decimal("0.9130") if plan.key == "rfq" else None,
            "ai_processed_at": at + timedelta(minutes=2) if plan.key == "rfq" else None,
            "link_access_count": 0, "link_last_accessed": None,
            "created_at": at, "updated_at": at,
        }
        doc.update(plan.links)
        ctx.documents[plan.key] = doc
        documents.append(doc)
        versions.append(_version_row(ctx, doc["id"], 1, plan, object_id, digest, at,
                                     "First upload."))
    documents.append(_drive_link_document(ctx))
    versions.append({
        "organization_id": ctx.org_id, "document_id": documents[-1]["id"], "version_number": 1,
        "storage_object_id": None, "file_name": documents[-1]["file_name"], "file_path": None,
        "file_size": None, "mime_type": documents[-1]["mime_type"], "sha256": None,
        "title": documents[-1]["title"], "change_summary": "Linked from Google Drive.",
        "uploaded_by": documents[-1]["uploaded_by"], "uploaded_at": documents[-1]["created_at"],
        "is_current": True, "metadata": {"external_url": documents[-1]["external_url"]},
        "created_at": documents[-1]["created_at"], "updated_at": documents[-1]["created_at"],
    })
    access = _access_log(ctx, documents)
    _insert(ctx.conn, "documents", documents)
    _insert(ctx.conn, "document_versions", versions)
    _insert(ctx.conn, "document_access_log", access)
    for doc in documents:
        ctx.log("document_uploaded", "document", doc["id"], f"Uploaded {doc['title']}",
                ctx.role_of(doc["uploaded_by"]), doc["created_at"],
                next((p for p in ctx.projects if p.id == doc["project_id"]), None),
                {"category": doc["category"], "access_level": doc["access_level"]})


def _version_row(ctx: Ctx, document_id: uuid.UUID, number: int, plan: DocPlan,
                 object_id: uuid.UUID, digest: str, at: datetime, summary: str) -> Row:
    return {
        "organization_id": ctx.org_id, "document_id": document_id, "version_number": number,
        "storage_object_id": object_id, "file_name": plan.file_name,
        "file_path": f"{plan.bucket}/{digest}", "file_size": len(plan.content),
        "mime_type": plan.mime, "sha256": digest, "title": plan.title or None,
        "description": plan.description or None, "change_summary": summary,
        "uploaded_by": ctx.who(plan.uploader), "uploaded_at": at, "is_current": True,
        "metadata": {"crc32": f"{zlib.crc32(plan.content):08x}"},
        "created_at": at, "updated_at": at,
    }


def _drive_link_document(ctx: Ctx) -> Row:
    project = ctx.project("order_confirmed")
    file_id = "1" + "".join(ctx.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
                                           "0123456789_-") for _ in range(32))
    at = project.created_at + timedelta(hours=20)
    return {
        "id": _new_id(), "organization_id": ctx.org_id, "project_id": project.id,
        "supplier_rfq_id": None, "purchase_order_id": None, "production_order_id": None,
        "title": f"Customer delivery schedule - {project.spec.title}",
        "description": "Shared spreadsheet kept by the customer; linked, not copied.",
        "file_name": "Delivery schedule.xlsx", "file_path": None, "file_size": None,
        "file_type": "xlsx",
        "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "current_version_number": 1, "category": "other", "tags": ["schedule", "google-drive"],
        "metadata": {"owner": ctx.org.customers[project.spec.customer].email},
        "access_level": "internal", "uploaded_by": ctx.who(Role.SALES),
        "approved_by": None, "approved_at": None, "external_id": file_id,
        "external_url": f"https://drive.google.com/file/d/{file_id}/view",
        "storage_provider": "google_drive", "sync_status": "synced",
        "last_synced_at": ctx.now - timedelta(hours=6), "ai_processing_status": "skipped",
        "ai_extracted_data": None, "ai_confidence_score": None, "ai_processed_at": None,
        "link_type": "file", "link_permissions": {"role": "reader", "type": "domain"},
        "link_expires_at": None, "link_access_count": 0, "link_last_accessed": None,
        "created_at": at, "updated_at": at,
    }


def _access_log(ctx: Ctx, documents: list[Row]) -> list[Row]:
    rows: list[Row] = []
    readers = (Role.SALES, Role.ENGINEERING, Role.QA, Role.PRODUCTION, Role.MANAGEMENT)
    for n, doc in enumerate(documents):
        entries = [("upload", doc["uploaded_by"], doc["created_at"])]
        for k in range(1 + n % 3):
            role = readers[(n + k) % len(readers)]
            action = "view" if k % 2 == 0 else "download"
            entries.append((action, ctx.who(role),
                            min(ctx.now, doc["created_at"] + timedelta(hours=5 + 7 * k))))
        if doc["access_level"] == "public":
            entries.append(("share", ctx.who(Role.SALES), doc["created_at"] + timedelta(hours=2)))
            entries.append(("view", ctx.who(Role.CUSTOMER),
                            min(ctx.now, doc["created_at"] + timedelta(days=1))))
        if doc["approved_by"]:
            entries.append(("approve", doc["approved_by"], doc["approved_at"]))
        if n == 1:
            entries.append(("comment", ctx.who(Role.QA), doc["created_at"] + timedelta(hours=9)))
        for i, (action, person, at) in enumerate(entries):
            rows.append({
                "organization_id": ctx.org_id, "document_id": doc["id"], "person_id": person,
                "action": action, "ip_address": f"10.{20 + n % 3}.{4 + i}.{11 + n}",
                "user_agent": USER_AGENT, "accessed_at": at, "created_at": at,
            })
            if action in ("view", "download"):
                doc["link_access_count"] += 1
                last = doc["link_last_accessed"]
                doc["link_last_accessed"] = at if last is None or at > last else last
    return rows


# --------------------------------------------------------------------------------------------
# Approvals
# --------------------------------------------------------------------------------------------
def _seed_approvals(ctx: Ctx) -> None:
    conn, org = ctx.conn, ctx.org
    created = ctx.ago(180)
    chains = [
        ("po", f"PO over {org.po_threshold:,} needs management", "purchase_order",
         "purchase_order", org.po_threshold,
         [("Procurement check", "sequential", 1, 24, None, [("role", Role.PROCUREMENT)]),
          ("Management sign-off", "sequential", 1, 48, Role.ADMIN,
           [("role", Role.MANAGEMENT), ("person", Role.ADMIN)])]),
        ("quote", "Customer quote approval", "cost_approval", "project", None,
         [("Sales and engineering", "parallel", 2, 24, None,
           [("person", Role.SALES), ("role", Role.ENGINEERING)]),
          ("Management", "sequential", 1, 24, Role.ADMIN, [("role", Role.MANAGEMENT)])]),
        ("change", "Engineering change on released drawings", "engineering_change", "document",
         None, [("Engineering", "sequential", 1, 24, None, [("role", Role.ENGINEERING)]),
                ("Quality", "sequential", 1, 24, Role.MANAGEMENT, [("role", Role.QA)])]),
    ]
    chain_rows: list[Row] = []
    step_rows: list[Row] = []
    approver_rows: list[Row] = []
    chain_ids: dict[str, uuid.UUID] = {}
    for key, name, approval_type, entity, amount, steps in chains:
        chain_id = _new_id()
        chain_ids[key] = chain_id
        chain_rows.append({
            "id": chain_id, "organization_id": ctx.org_id, "chain_name": name,
            "approval_type": approval_type, "entity_type": entity,
            "min_amount": _money(amount) if amount else None,
            "currency": org.currency if amount else None,
            "conditions": {"field": "total_amount", "op": ">", "value": amount} if amount
            else {"always": True},
            "is_active": True, "created_by": ctx.who(Role.ADMIN),
            "created_at": created, "updated_at": created,
        })
        for number, (step_name, mode, required, due, escalate, approvers) in enumerate(
                steps, start=1):
            step_id = _new_id()
            step_rows.append({
                "id": step_id, "organization_id": ctx.org_id, "chain_id": chain_id,
                "step_number": number, "name": step_name, "mode": mode,
                "required_approvals": required, "due_hours": due,
                "escalate_to_role": escalate.value if escalate else None,
                "created_at": created, "updated_at": created,
            })
            for position, (kind, role) in enumerate(approvers, start=1):
                approver_rows.append({
                    "organization_id": ctx.org_id, "chain_step_id": step_id,
                    "person_id": ctx.who(role) if kind == "person" else None,
                    "role": role.value if kind == "role" else None, "position": position,
                    "created_at": created, "updated_at": created,
                })
    _insert(conn, "approval_chains", chain_rows)
    _insert(conn, "approval_chain_steps", step_rows)
    _insert(conn, "approval_chain_step_approvers", approver_rows)
    _seed_approval_requests(ctx, chain_ids)


def _seed_approval_requests(ctx: Ctx, chains: Mapping[str, uuid.UUID]) -> None:
    pending_po = next(p for p in ctx.pos if p["status"] == "pending_approval")
    approved_po = next(p for p in ctx.pos if p["status"] == "approved")
    quoted = ctx.project("quoted", "direct_request")
    change_doc = ctx.documents["drawing_a"]
    requests = [
        # key, type, title, entity type, entity id, project, chain, amount, status,
        # step, requester, requested days ago, decider
        ("po_pending", "purchase_order", f"Approve {pending_po['po_number']}", "purchase_order",
         pending_po["id"], pending_po["project_id"], "po", pending_po["total_amount"],
         "pending", 2, Role.PROCUREMENT, 1.5, None),
        ("po_approved", "purchase_order", f"Approve {approved_po['po_number']}",
         "purchase_order", approved_po["id"], approved_po["project_id"], "po",
         approved_po["total_amount"], "approved", 2, Role.PROCUREMENT, 4.5, Role.MANAGEMENT),
        ("quote_rejected", "cost_approval", f"Quote for {quoted.number}: {quoted.spec.title}",
         "project", quoted.id, quoted.id, "quote", _money(quoted.spec.value), "rejected", 2,
         Role.SALES, 3, Role.MANAGEMENT),
        ("change_review", "engineering_change", f"Engineering change: {change_doc['title']}",
         "document", change_doc["id"], change_doc["project_id"], "change", None, "in_review", 1,
         Role.ENGINEERING, 0.5, None),
    ]
    approvals: list[Row] = []
    steps: list[Row] = []
    approvers: list[Row] = []
    history: list[Row] = []
    for (key, kind, title, entity, entity_id, project_id, chain, amount, status, step,
         requester, days, decider) in requests:
        at = ctx.ago(days)
        decided = at + timedelta(hours=6 * step) if decider else None
        approval_id = _new_id()
        approval = {
            "id": approval_id, "organization_id": ctx.org_id, "approval_type": kind,
            "title": title, "description": f"{title}. Requested through the {chain} chain.",
            "reference_id": title.split(":")[0].replace("Approve ", ""),
            "entity_type": entity, "entity_id": entity_id, "entity_version": 1,
            "project_id": project_id, "approval_chain_id": chains[chain],
            "step_number": step, "total_steps": 2, "amount": amount,
            "currency": ctx.org.currency if amount is not None else None,
            "requested_by": ctx.who(requester), "requested_at": at,
            "request_reason": "Above the approval threshold." if chain == "po"
            else "Standard approval before release.",
            "request_metadata": {"source": "desktop"}, "status": status,
            "priority": "high" if chain == "po" else "normal",
            "due_date": at + timedelta(days=2), "expires_at": at + timedelta(days=3),
            "decision_comments": {"approved": "Approved; supplier price checked against the "
                                              "last three orders.",
                                  "rejected": "Rejected: margin below the 18 % target; "
                                              "re-quote with the alternative material."
                                  }.get(status),
            "decision_reason": {"approved": "within budget", "rejected": "margin too low"
                                }.get(status),
            "decided_by": ctx.who(decider) if decider else None, "decided_at": decided,
            "created_at": at, "updated_at": decided or at,
        }
        approvals.append(approval)
        ctx.approvals[key] = approval
        s, a, h = _approval_steps(ctx, approval, step, status, requester, decider, at)
        steps += s
        approvers += a
        history += h
        if decided:
            ctx.log("approval_decided", "approval", approval_id, f"{title}: {status}",
                    decider or Role.MANAGEMENT, decided,
                    next((p for p in ctx.projects if p.id == project_id), None),
                    {"status": status})
    _insert(ctx.conn, "approvals", approvals)
    _insert(ctx.conn, "approval_steps", steps)
    _insert(ctx.conn, "approval_step_approvers", approvers)
    _insert(ctx.conn, "approval_history", history)
    _seed_delegations(ctx)
    _insert(ctx.conn, "approval_attachments", [
        {"organization_id": ctx.org_id, "approval_id": ctx.approvals["po_pending"]["id"],
         "document_id": ctx.documents["po"]["id"], "attachment_type": "purchase_order",
         "description": "PO as it will be sent to the supplier",
         "created_at": ctx.approvals["po_pending"]["created_at"]},
        {"organization_id": ctx.org_id, "approval_id": ctx.approvals["change_review"]["id"],
         "document_id": ctx.documents["drawing_a"]["id"], "attachment_type": "drawing",
         "description": "Drawing rev B with the changed sealing face",
         "created_at": ctx.approvals["change_review"]["created_at"]},
        {"organization_id": ctx.org_id, "approval_id": ctx.approvals["quote_rejected"]["id"],
         "document_id": ctx.documents["quote"]["id"], "attachment_type": "quote",
         "description": "Cost breakdown used for the quote",
         "created_at": ctx.approvals["quote_rejected"]["created_at"]},
    ])


def _approval_steps(ctx: Ctx, approval: Row, current: int, status: str, requester: Role,
                    decider: Role | None, at: datetime
                    ) -> tuple[list[Row], list[Row], list[Row]]:
    steps: list[Row] = []
    approvers: list[Row] = []
    history: list[Row] = [{
        "organization_id": ctx.org_id, "approval_id": approval["id"], "approval_step_id": None,
        "action_type": "submitted", "action_by": ctx.who(requester), "action_at": at,
        "old_status": None, "new_status": "pending", "comments": "Submitted for approval.",
        "metadata": {"chain": str(approval["approval_chain_id"])}, "created_at": at,
    }]
    roles = {"purchase_order": (Role.PROCUREMENT, Role.MANAGEMENT),
             "cost_approval": (Role.ENGINEERING, Role.MANAGEMENT),
             "engineering_change": (Role.ENGINEERING, Role.QA)}[approval["approval_type"]]
    for number, role in enumerate(roles, start=1):
        step_id = _new_id()
        if number < current:
            step_status, decision = "approved", "approved"
        elif number == current:
            step_status = {"pending": "pending", "in_review": "pending", "approved": "approved",
                           "rejected": "rejected"}[status]
            decision = step_status
        else:
            step_status, decision = "waiting", "pending"
        done_at = at + timedelta(hours=6 * number) if decision in ("approved", "rejected") \
            else None
        steps.append({
            "id": step_id, "organization_id": ctx.org_id, "approval_id": approval["id"],
            "step_number": number, "name": f"{role.value.capitalize()} approval",
            "mode": "sequential", "required_approvals": 1, "status": step_status,
            "due_at": at + timedelta(days=number), "completed_at": done_at,
            "created_at": at, "updated_at": done_at or at,
        })
        person = ctx.who(decider) if (decider and number == current) else ctx.who(role)
        approvers.append({
            "organization_id": ctx.org_id, "approval_step_id": step_id,
            "person_id": person if decision != "pending" else None,
            "role": None if decision != "pending" else role.value, "position": 1,
            "decision": decision, "decided_by": person if done_at else None,
            "decided_at": done_at,
            "comment": ("Looks good." if decision == "approved" else
                        "Margin too low." if decision == "rejected" else None),
            "created_at": at, "updated_at": done_at or at,
        })
        if done_at:
            history.append({
                "organization_id": ctx.org_id, "approval_id": approval["id"],
                "approval_step_id": step_id, "action_type": f"step_{decision}",
                "action_by": person, "action_at": done_at,
                "old_status": "pending" if number == 1 else "in_review",
                "new_status": "in_review" if number < len(roles) else status,
                "comments": f"Step {number} {decision}.", "metadata": {"step": number},
                "created_at": done_at,
            })
    if status == "in_review":
        history.append({
            "organization_id": ctx.org_id, "approval_id": approval["id"],
            "approval_step_id": steps[0]["id"], "action_type": "comment",
            "action_by": ctx.who(Role.QA), "action_at": at + timedelta(hours=2),
            "old_status": "pending", "new_status": "in_review",
            "comments": "Please attach the updated FMEA before I sign.",
            "metadata": {}, "created_at": at + timedelta(hours=2),
        })
    return steps, approvers, history


def _seed_delegations(ctx: Ctx) -> None:
    today = ctx.today()
    active = _new_id()
    _insert(ctx.conn, "approval_delegations", [
        {"id": active, "organization_id": ctx.org_id, "delegator_id": ctx.who(Role.MANAGEMENT),
         "delegate_id": ctx.who(Role.ADMIN), "start_date": today - timedelta(days=1),
         "end_date": today + timedelta(days=9), "reason": "Annual leave; admin covers approvals",
         "include_new_approvals": True, "status": "active",
         "created_at": ctx.ago(3), "updated_at": ctx.ago(3)},
        {"id": _new_id(), "organization_id": ctx.org_id,
         "delegator_id": ctx.who(Role.PROCUREMENT), "delegate_id": ctx.who(Role.MANAGEMENT),
         "start_date": today - timedelta(days=60), "end_date": today - timedelta(days=50),
         "reason": "Trade fair week", "include_new_approvals": False, "status": "expired",
         "created_at": ctx.ago(62), "updated_at": ctx.ago(49)},
    ])
    _insert(ctx.conn, "approval_delegation_mappings", [
        {"organization_id": ctx.org_id, "delegation_id": active,
         "approval_id": ctx.approvals["po_pending"]["id"], "created_at": ctx.ago(1)},
    ])
    approval = ctx.approvals["po_pending"]
    _insert(ctx.conn, "approval_history", [{
        "organization_id": ctx.org_id, "approval_id": approval["id"], "approval_step_id": None,
        "action_type": "delegated", "action_by": ctx.who(Role.MANAGEMENT),
        "action_at": ctx.ago(1), "old_status": "pending", "new_status": "pending",
        "comments": "Delegated to the administrator during annual leave.",
        "metadata": {"delegation_id": str(active)}, "created_at": ctx.ago(1),
    }])


# --------------------------------------------------------------------------------------------
# Messages and notifications
# --------------------------------------------------------------------------------------------
def _seed_messages(ctx: Ctx) -> None:
    kickoff = ctx.project("production", "rfq")
    customer_project = ctx.project("inquiry_received", "rfq")
    rfq = next(r for r in ctx.rfqs if r["status"] == "sent")
    order = next(o for o in ctx.orders if o["status"] == "in_progress")
    po = next(p for p in ctx.pos if p["status"] == "partially_received")
    customer = ctx.org.customers[customer_project.spec.customer]
    Post = tuple[Role, str, list[Role]]
    threads: list[tuple[dict[str, uuid.UUID], str, Role | None, Role | None, str, list[Post]]] = [
        # (links, type, recipient, recipient role, subject, [(sender, content, mentions)])
        ({"project_id": kickoff.id}, "internal", None, None, f"Kick-off {kickoff.number}", [
            (Role.SALES, f"Customer confirmed {kickoff.spec.quantity} pcs of "
                         f"{kickoff.spec.title}. Kick-off on Monday 9:00.", [Role.ENGINEERING]),
            (Role.ENGINEERING, f"{ctx.org.phrases['first_article']} "
                               "QA, please prepare the FAI report template.", [Role.QA]),
            (Role.QA, "FAI template attached to the project; I will be at the machine for the "
                      "first part.", []),
        ]),
        ({"project_id": customer_project.id}, "customer", Role.SALES, None,
         f"Question about {customer_project.spec.title}", [
             (Role.CUSTOMER, f"Hello, could you quote {ctx.org.phrases['finish_option']}? "
                             f"Regards, {customer.contact_name}", []),
             (Role.SALES, "Thank you, we will include both finishes in the quote by Friday.", []),
         ]),
        ({"project_id": rfq["project_id"], "supplier_rfq_id": rfq["id"]}, "supplier",
         Role.SUPPLIER, None, f"{rfq['rfq_number']}: drawings", [
             (Role.PROCUREMENT, "Please find the RFQ in the portal; answer by the due date.", []),
             (Role.SUPPLIER, "Received, we will send our offer in two days.", []),
         ]),
        ({"production_order_id": order["id"], "project_id": order["project_id"]}, "internal",
         None, Role.PRODUCTION, f"Scrap on {order['production_number']}", [
             (Role.PRODUCTION, f"Two parts scrapped on op 20 ({ctx.org.phrases['scrap']}). "
                               "Replacement blanks are cut.", [Role.QA]),
             (Role.QA, f"Noted. {ctx.org.phrases['fix']}; I logged an NCR.", []),
         ]),
        ({"purchase_order_id": po["id"]}, "internal", None, None,
         f"{po['po_number']} partly delivered", [
             (Role.PROCUREMENT, "Only half of line 1 arrived; rest promised for next week.",
              [Role.PRODUCTION]),
         ]),
        ({}, "system", None, Role.MANAGEMENT, "Weekly summary", [
             (Role.ADMIN, "Backups verified; 2 approvals waiting for management.", []),
         ]),
    ]
    messages: list[Row] = []
    reads: list[Row] = []
    mentions: list[Row] = []
    base = ctx.ago(2)
    for t, (links, kind, recipient, recipient_role, subject, posts) in enumerate(threads):
        root: uuid.UUID | None = None
        parent: uuid.UUID | None = None
        for i, (sender, content, mentioned) in enumerate(posts):
            message_id = _new_id()
            root = root or message_id
            at = base + timedelta(hours=t * 5 + i * 2)
            # A conversation between two people alternates; others go to the project or a role.
            to = (recipient if i == 0 else posts[i - 1][0]) if recipient else None
            messages.append({
                "id": message_id, "organization_id": ctx.org_id, **links,
                "thread_id": root, "parent_message_id": parent,
                "sender_id": ctx.who(sender),
                "recipient_id": ctx.who(to) if to else None,
                "recipient_type": "user" if to else ("role" if recipient_role else "project"),
                "recipient_role": recipient_role.value if recipient_role else None,
                "subject": subject if i == 0 else f"Re: {subject}", "content": content,
                "message_type": kind, "priority": "high" if "Scrap" in subject else "medium",
                "status": "sent", "metadata": {"client": "desktop"},
                "created_at": at, "updated_at": at,
            })
            parent = message_id
            readers = {Role.MANAGEMENT} | ({to} if to else {Role.SALES, Role.ENGINEERING})
            for reader in sorted(readers - {sender}, key=lambda r: r.value):
                if i == len(posts) - 1 and reader is Role.MANAGEMENT:
                    continue  # the newest message is still unread by management
                reads.append({"organization_id": ctx.org_id, "message_id": message_id,
                              "person_id": ctx.who(reader),
                              "read_at": at + timedelta(minutes=35), "created_at": at})
            for person in mentioned:
                mentions.append({"organization_id": ctx.org_id, "message_id": message_id,
                                 "person_id": ctx.who(person), "created_at": at})
    _insert(ctx.conn, "messages", messages)
    _insert(ctx.conn, "message_reads", reads)
    _insert(ctx.conn, "message_mentions", mentions)
    by_project = {m["project_id"]: m for m in messages if m.get("project_id")}
    attachments = []
    for key in ("spec", "rfq", "supplier_quote"):
        doc = ctx.documents[key]
        message = by_project.get(doc["project_id"])
        if message is not None:
            attachments.append({"organization_id": ctx.org_id, "message_id": message["id"],
                                "document_id": doc["id"], "created_at": message["created_at"]})
    if not attachments:
        raise RuntimeError("demo messages need at least one attachment")
    _insert(ctx.conn, "message_attachments", attachments)


def _seed_notifications(ctx: Ctx) -> None:
    pending = ctx.approvals["po_pending"]
    rfq = next(r for r in ctx.rfqs if r["status"] == "quoted")
    customer_project = ctx.project("inquiry_received", "rfq")
    plan = [
        (Role.MANAGEMENT, f"Approval needed: {pending['title']}",
         f"{pending['currency']} {pending['amount']:,.2f} is over the threshold.",
         "approval_request", "high", "unread", "approval", pending["id"], "Review"),
        (Role.ADMIN, f"Delegated to you: {pending['title']}",
         "You cover management approvals this week.", "approval_request", "high", "unread",
         "approval", pending["id"], "Review"),
        (Role.PROCUREMENT, f"Quote received for {rfq['rfq_number']}",
         "The supplier answered your RFQ.", "rfq_response", "medium", "read", "supplier_rfq",
         rfq["id"], "Open RFQ"),
        (Role.QA, "You were mentioned in a message", "Kick-off thread: FAI template.",
         "mention", "medium", "unread", "project", ctx.project("production", "rfq").id,
         "Open thread"),
        (Role.SALES, f"{customer_project.number} entered Inquiry Received",
         "New RFQ from the customer portal.", "stage_change", "medium", "archived", "project",
         customer_project.id, "Open project"),
        (Role.CUSTOMER, "We received your request",
         f"Your request {customer_project.number} is being reviewed.", "info", "low", "read",
         "project", customer_project.id, "View"),
        (Role.PRODUCTION, "Low stock warning",
         f"{ctx.org.items[ctx.org.bom[1][0]].name} is below the minimum level.", "warning",
         "high", "unread", "inventory_item", ctx.items[ctx.org.bom[1][0]], "Open item"),
        (Role.SUPPLIER, "New RFQ for you", "Please answer by the due date.", "rfq", "medium",
         "unread", "supplier_rfq", next(r for r in ctx.rfqs if r["status"] == "sent")["id"],
         "Open RFQ"),
    ]
    rows = []
    for n, (role, title, message, kind, priority, status, entity, entity_id, label) in \
            enumerate(plan):
        at = ctx.ago(0.2 + n * 0.4)
        rows.append({
            "organization_id": ctx.org_id, "person_id": ctx.who(role), "title": title,
            "message": message, "type": kind, "priority": priority, "status": status,
            "action_url": f"factorypulse://{entity}/{entity_id}", "action_label": label,
            "related_entity_type": entity, "related_entity_id": entity_id,
            "metadata": {"org": ctx.org.slug}, "expires_at": at + timedelta(days=30),
            "read_at": at + timedelta(hours=1) if status != "unread" else None,
            "created_at": at, "updated_at": at,
        })
    _insert(ctx.conn, "notifications", rows)
    # Preferences (revision 0011): management wants approvals on the desktop too; sales does
    # not want stage alerts in the app.
    _insert(ctx.conn, "notification_preferences", [
        {"organization_id": ctx.org_id, "person_id": ctx.who(Role.MANAGEMENT),
         "event": "approval_waiting", "in_app": True, "desktop": True},
        {"organization_id": ctx.org_id, "person_id": ctx.who(Role.SALES),
         "event": "stage_overdue", "in_app": False, "desktop": False},
    ])


# --------------------------------------------------------------------------------------------
# Google Drive (no tokens: they live in the OS keyring) and saved filters
# --------------------------------------------------------------------------------------------
def _seed_drive_and_filters(ctx: Ctx) -> None:
    configured = ctx.ago(150)
    scope = "https://www.googleapis.com/auth/drive.file"
    _insert(ctx.conn, "google_drive_config", [{
        "organization_id": ctx.org_id, "client_id": ctx.org.drive_client_id, "scopes": [scope],
        "allow_readonly_scope": ctx.org.slug == "globex", "is_active": True,
        "configured_by": ctx.who(Role.ADMIN), "created_at": configured, "updated_at": configured,
    }])
    _insert(ctx.conn, "google_drive_client_secrets", [{
        "organization_id": ctx.org_id, "client_secret": "demo-not-a-real-secret",
        "created_at": configured, "updated_at": configured,
    }])
    connections = []
    for n, (role, status) in enumerate(((Role.SALES, "connected"),
                                        (Role.ENGINEERING, "disconnected"),
                                        (Role.ADMIN, "revoked"))):
        spec = next(p for p in ctx.org.people if p.role is role)
        at = ctx.ago(90 - n * 20)
        connections.append({
            "organization_id": ctx.org_id, "person_id": ctx.who(role),
            "google_account_id": str(104000000000000000000 + ctx.org.seed * 10 + n),
            "google_email": _person_email(ctx.org, spec), "scopes": [scope], "status": status,
            "connected_at": at,
            "last_refreshed_at": ctx.ago(0.5) if status == "connected" else at,
            "created_at": at, "updated_at": at,
        })
    _insert(ctx.conn, "google_drive_connections", connections)
    filters = [
        (Role.SALES, "projects", "My open RFQs",
         {"intake_type": ["rfq"], "status": ["active"], "assigned_to": "me"}, True),
        (Role.SALES, "projects", "Overdue deliveries",
         {"delivery": "overdue", "status": ["active", "on_hold"]}, False),
        (Role.MANAGEMENT, "approvals", f"Over {ctx.org.po_threshold:,} pending",
         {"status": ["pending", "in_review"], "min_amount": ctx.org.po_threshold}, True),
        (Role.PROCUREMENT, "purchase_orders", "Awaiting delivery",
         {"status": ["sent", "acknowledged", "partially_received"]}, True),
        (Role.PRODUCTION, "production_orders", "On the floor",
         {"status": ["released", "in_progress", "on_hold"]}, True),
        (Role.QA, "documents", "Inspection records",
         {"category": ["inspection", "certificate"]}, False),
    ]
    _insert(ctx.conn, "saved_filters", [
        {"organization_id": ctx.org_id, "person_id": ctx.who(role), "page": page,
         "name": name, "filter": value, "is_default": default,
         "created_at": ctx.ago(20), "updated_at": ctx.ago(20)}
        for role, page, name, value, default in filters
    ])
