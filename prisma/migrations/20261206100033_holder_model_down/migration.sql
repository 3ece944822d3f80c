-- AlterTable
ALTER TABLE "instance_holders" ADD COLUMN     "model_down" BOOLEAN NOT NULL DEFAULT false;
