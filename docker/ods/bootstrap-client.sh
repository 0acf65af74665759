#!/bin/sh
# ods profile only. Runs once, when the Ed-Fi admin database is first created (after the image's
# own init scripts): registers the ODS database and one API client whose key and secret are the
# ones the sync already uses (EDFI_API_KEY / EDFI_API_SECRET), so swapping the sandbox for the
# ODS/API is a URL change. Follows the Ed-Fi ODS-Docker single-tenant bootstrap. Development only:
# a state ODS issues its own credentials.
set -e

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname EdFi_Admin \
     -v ods_cs="host=${ODS_POSTGRES_HOST};port=5432;username=${POSTGRES_USER};password=${POSTGRES_PASSWORD};database=EdFi_Ods;application name=EdFi.Ods.WebApi;" \
     -v client_key="$EDFI_API_KEY" -v client_secret="$EDFI_API_SECRET" \
     -v lea_id="$EDFI_ODS_LEA_ID" -v claim_set="$EDFI_ODS_CLAIM_SET" <<'EOSQL'
INSERT INTO dbo.OdsInstances (Name, InstanceType, ConnectionString)
SELECT 'default', 'ODS', :'ods_cs'
WHERE NOT EXISTS (SELECT 1 FROM dbo.OdsInstances WHERE Name = 'default');

INSERT INTO dbo.Vendors (VendorName)
SELECT 'edfi-sync' WHERE NOT EXISTS (SELECT 1 FROM dbo.Vendors WHERE VendorName = 'edfi-sync');

INSERT INTO dbo.VendorNamespacePrefixes (NamespacePrefix, Vendor_VendorId)
SELECT prefix, VendorId
FROM dbo.Vendors, (VALUES ('uri://ed-fi.org'), ('uri://nmped.org')) AS p (prefix)
WHERE VendorName = 'edfi-sync'
  AND NOT EXISTS (SELECT 1 FROM dbo.VendorNamespacePrefixes n
                  WHERE n.NamespacePrefix = p.prefix AND n.Vendor_VendorId = Vendors.VendorId);

INSERT INTO dbo.Applications (ApplicationName, OperationalContextUri, Vendor_VendorId, ClaimSetName)
SELECT 'edfi-sync', 'uri://ed-fi.org', VendorId, :'claim_set'
FROM dbo.Vendors
WHERE VendorName = 'edfi-sync'
  AND NOT EXISTS (SELECT 1 FROM dbo.Applications WHERE ApplicationName = 'edfi-sync');

INSERT INTO dbo.ApplicationEducationOrganizations (EducationOrganizationId, Application_ApplicationId)
SELECT CAST(:'lea_id' AS bigint), ApplicationId
FROM dbo.Applications
WHERE ApplicationName = 'edfi-sync'
  AND NOT EXISTS (SELECT 1 FROM dbo.ApplicationEducationOrganizations e
                  WHERE e.Application_ApplicationId = Applications.ApplicationId);

INSERT INTO dbo.ApiClients (Key, Secret, Name, IsApproved, UseSandbox, SandboxType, SecretIsHashed,
                            Application_ApplicationId)
SELECT :'client_key', :'client_secret', 'edfi-sync', true, false, 0, false, ApplicationId
FROM dbo.Applications
WHERE ApplicationName = 'edfi-sync'
  AND NOT EXISTS (SELECT 1 FROM dbo.ApiClients WHERE Name = 'edfi-sync');

INSERT INTO dbo.ApiClientApplicationEducationOrganizations (ApiClient_ApiClientId, ApplicationEdOrg_ApplicationEdOrgId)
SELECT c.ApiClientId, e.ApplicationEducationOrganizationId
FROM dbo.ApiClients c
JOIN dbo.ApplicationEducationOrganizations e ON e.Application_ApplicationId = c.Application_ApplicationId
WHERE c.Name = 'edfi-sync'
  AND NOT EXISTS (SELECT 1 FROM dbo.ApiClientApplicationEducationOrganizations x
                  WHERE x.ApiClient_ApiClientId = c.ApiClientId
                    AND x.ApplicationEdOrg_ApplicationEdOrgId = e.ApplicationEducationOrganizationId);

INSERT INTO dbo.ApiClientOdsInstances (ApiClient_ApiClientId, OdsInstance_OdsInstanceId)
SELECT c.ApiClientId, o.OdsInstanceId
FROM dbo.ApiClients c, dbo.OdsInstances o
WHERE c.Name = 'edfi-sync' AND o.Name = 'default'
  AND NOT EXISTS (SELECT 1 FROM dbo.ApiClientOdsInstances x
                  WHERE x.ApiClient_ApiClientId = c.ApiClientId AND x.OdsInstance_OdsInstanceId = o.OdsInstanceId);
EOSQL
