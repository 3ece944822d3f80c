-- AlterTable
ALTER TABLE "instances" ADD COLUMN     "host_endpoints" JSONB;
